/**
 * Half-precision conversions. The Wasm backend has no float16/bfloat16 in Node 20
 * (ENGINE-NOTES.md), so half-precision checkpoint tensors become float32 on load, and the
 * safetensors writer can store float32 back as half precision.
 */

/** IEEE 754 binary16 bits → float32 value (subnormals, infinities and NaN included). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Little-endian float16 bytes → Float32Array. */
export function f16ToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >> 1;
  const out = new Float32Array(n);
  const table = f16Table();
  for (let i = 0; i < n; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  return out;
}

let table16: Float32Array | undefined;
function f16Table(): Float32Array {
  if (!table16) {
    table16 = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table16[h] = f16BitsToF32(h);
  }
  return table16;
}

/** Little-endian bfloat16 bytes → Float32Array (bf16 is the top half of a float32). */
export function bf16ToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >> 1;
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = (bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16;
  return new Float32Array(bits.buffer);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → float16 bits, round to nearest even. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float32 → bfloat16 bits, round to nearest even (NaN kept quiet). */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}
