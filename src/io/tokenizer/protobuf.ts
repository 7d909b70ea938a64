/**
 * A minimal protocol-buffers wire-format reader (https://protobuf.dev/programming-guides/encoding/):
 * enough to walk a message's fields and read varints, fixed32 floats, strings and sub-messages.
 * Every read is bounds-checked so a truncated or corrupt file fails with a clear error instead of
 * reading garbage.
 */

export class ProtobufError extends Error {}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export interface Field {
  number: number;
  wire: number;
  /** varint value (exact below 2^53) for WIRE_VARINT. */
  varint: number;
  /** The varint's low 32 bits, exact even for 64-bit values (negative int32s). */
  low32: number;
  /** raw bytes for WIRE_BYTES / WIRE_FIXED32 / WIRE_FIXED64. */
  bytes: Uint8Array;
}

const utf8 = new TextDecoder("utf-8");

export class ProtoReader {
  private pos = 0;
  private low = 0; // low 32 bits of the last varint

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Read an unsigned varint (up to 10 bytes); values beyond 2^53 lose low bits, as doubles do. */
  varint(): number {
    let result = 0;
    let scale = 1;
    let low = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (i < 5) low += (b & 0x7f) * scale; // 35 bits: exact in a double
      if ((b & 0x80) === 0) {
        this.low = low % 4294967296;
        return result;
      }
      scale *= 128;
    }
    throw new ProtobufError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** Next field of the message, or undefined at its end. */
  next(): Field | undefined {
    if (this.done) return undefined;
    const key = this.varint();
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (number === 0) throw new ProtobufError(`field number 0 at byte ${this.pos}`);
    switch (wire) {
      case WIRE_VARINT: {
        const varint = this.varint();
        return { number, wire, varint, low32: this.low, bytes: EMPTY };
      }
      case WIRE_FIXED64:
        return { number, wire, varint: 0, low32: 0, bytes: this.take(8) };
      case WIRE_BYTES:
        return { number, wire, varint: 0, low32: 0, bytes: this.take(this.varint()) };
      case WIRE_FIXED32:
        return { number, wire, varint: 0, low32: 0, bytes: this.take(4) };
      default:
        throw new ProtobufError(`unsupported wire type ${wire} (field ${number}) at byte ${this.pos}`);
    }
  }

  private take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new ProtobufError(`truncated: field needs ${n} bytes at byte ${this.pos}, ${this.buf.length - this.pos} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/** A varint read as a signed 32-bit integer (int32 fields: -1 is ten bytes of 0xff…01). */
export function int32(f: Field): number {
  return f.low32 | 0;
}

/** A fixed32 field as a little-endian IEEE float. */
export function float32(f: Field): number {
  if (f.wire !== WIRE_FIXED32) throw new ProtobufError(`field ${f.number}: expected a float (wire type 5), got wire type ${f.wire}`);
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}

/** A length-delimited field as UTF-8 text. */
export function string(f: Field): string {
  if (f.wire !== WIRE_BYTES) throw new ProtobufError(`field ${f.number}: expected a string (wire type 2), got wire type ${f.wire}`);
  return utf8.decode(f.bytes);
}

/** Iterate the fields of a (sub-)message. */
export function* fields(bytes: Uint8Array): Generator<Field> {
  const r = new ProtoReader(bytes);
  for (let f = r.next(); f !== undefined; f = r.next()) yield f;
}
