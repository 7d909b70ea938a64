/** The protobuf wire reader (https://protobuf.dev/programming-guides/encoding/) on hand-encoded bytes. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { ProtobufError, fields, float32, int32, string } from "../../src/io/tokenizer/protobuf.js";

it("reads varints, negative int32, fixed32 floats, strings and skips fixed64", () => {
  const bytes = Uint8Array.from([
    0x08, 0x96, 0x01, // field 1 varint 150 (the spec's example)
    0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, // field 2 int32 -1 (10 bytes)
    0x1d, 0x00, 0x00, 0xc0, 0x3f, // field 3 fixed32 1.5
    0x22, 0x03, 0xe2, 0x96, 0x81, // field 4 string "▁"
    0x29, 1, 2, 3, 4, 5, 6, 7, 8, // field 5 fixed64 (skipped over)
    0x30, 0x00, // field 6 varint 0
  ]);
  const f = [...fields(bytes)];
  assert.deepEqual(f.map((x) => [x.number, x.wire]), [[1, 0], [2, 0], [3, 5], [4, 2], [5, 1], [6, 0]]);
  assert.equal(f[0]!.varint, 150);
  assert.equal(int32(f[1]!), -1);
  assert.equal(float32(f[2]!), 1.5);
  assert.equal(string(f[3]!), "▁");
  assert.equal(f[5]!.varint, 0);
});

it("rejects truncation, bad wire types and field number 0", () => {
  const errs = [
    [0x08, 0x96], // varint cut short
    [0x22, 0x05, 0x61], // string says 5 bytes, has 1
    [0x1d, 0x00, 0x00], // fixed32 cut short
    [0x0b], // wire type 3 (groups) unsupported
    [0x00, 0x01], // field number 0
    [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // 11-byte varint
  ];
  for (const e of errs) assert.throws(() => [...fields(Uint8Array.from(e))], ProtobufError, JSON.stringify(e));
  assert.throws(() => string([...fields(Uint8Array.from([0x08, 0x01]))][0]!), ProtobufError, "a varint is not a string");
});
