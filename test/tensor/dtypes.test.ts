import { test } from "node:test";
import assert from "node:assert/strict";
import { bf16ToF32, f16BitsToF32, f16ToF32, f32ToBf16Bits, f32ToF16Bits } from "../../src/tensor/dtypes.js";

test("float16 decodes normals, subnormals, infinities and NaN", () => {
  assert.equal(f16BitsToF32(0x3c00), 1);
  assert.equal(f16BitsToF32(0xc000), -2);
  assert.equal(f16BitsToF32(0x7bff), 65504);
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.equal(f16BitsToF32(0x7c00), Infinity);
  assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
  assert.deepEqual([...f16ToF32(new Uint8Array([0x00, 0x3c, 0x00, 0xc0]))], [1, -2]);
});

test("float16 and bfloat16 encode with round-to-nearest-even and round-trip every finite half", () => {
  for (let h = 0; h < 0x7c00; h++) assert.equal(f32ToF16Bits(f16BitsToF32(h)), h);
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie rounds to even
  assert.equal(f32ToF16Bits(1e6), 0x7c00); // overflow to infinity
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  const back = bf16ToF32(new Uint8Array([0x80, 0x3f, 0x49, 0x40]));
  assert.deepEqual([...back], [1, 3.140625]);
});
