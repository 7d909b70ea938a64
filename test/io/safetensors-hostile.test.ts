/** Corrupt and hostile safetensors files: each is refused with its own code, naming the file. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckpointError } from "../../src/errors.js";
import { openSafetensors, parseSafetensors } from "../../src/io/safetensors.js";
import { serializeSafetensors } from "../../src/io/safetensors-write.js";
import { rawSafetensors, rejectsWith, spySource } from "./checkpoint-helpers.js";

const FILE = "hostile.safetensors";
const open = (bytes: Uint8Array) => openSafetensors(spySource(bytes), FILE);
const expectCode = (bytes: Uint8Array, code: string, mentions: string[] = []) => rejectsWith(() => open(bytes), CheckpointError, code, FILE, mentions);
const f32 = (begin: number, end: number, shape: number[] = [(end - begin) / 4]) => ({ dtype: "F32", shape, data_offsets: [begin, end] });

describe("hostile safetensors headers", () => {
  it("a file shorter than the 8-byte length prefix", async () => {
    await expectCode(Uint8Array.from([1, 0, 0]), "SAFETENSORS_TOO_SMALL");
  });

  it("a header length above the reference's 100 MB limit", async () => {
    await expectCode(rawSafetensors({}, 0, 100_000_001n), "SAFETENSORS_HEADER_TOO_LARGE", ["100000000"]);
    await expectCode(rawSafetensors({}, 0, 1n << 40n), "SAFETENSORS_HEADER_TOO_LARGE");
  });

  it("a header length running past the end of the file", async () => {
    await expectCode(rawSafetensors({}, 0, 500n), "SAFETENSORS_HEADER_LENGTH", ["500"]);
  });

  it("a header that is not UTF-8", async () => {
    const bytes = rawSafetensors('{"a":1}');
    bytes[10] = 0xff;
    await expectCode(bytes, "SAFETENSORS_HEADER_UTF8");
  });

  it("a header that is not JSON, with line and column", async () => {
    await expectCode(rawSafetensors('{"a": {"dtype": "F32",\n "shape": [1] "x"}}'), "SAFETENSORS_HEADER_JSON", ["line 2, column 15"]);
  });

  it("a header that is JSON but not an object", async () => {
    await expectCode(rawSafetensors("[1, 2]  "), "SAFETENSORS_HEADER_NOT_OBJECT");
    await expectCode(rawSafetensors("  {}    "), "SAFETENSORS_HEADER_NOT_OBJECT"); // must start with '{'
    await expectCode(rawSafetensors("\uFEFF{}     "), "SAFETENSORS_HEADER_NOT_OBJECT"); // a BOM is not '{'
  });

  it("an entry that is not {dtype, shape, data_offsets}", async () => {
    await expectCode(rawSafetensors({ w: 3 }), "SAFETENSORS_TENSOR_ENTRY", ["w"]);
    await expectCode(rawSafetensors({ w: { shape: [1], data_offsets: [0, 4] } }, 4), "SAFETENSORS_TENSOR_ENTRY", ["w"]);
  });

  it("an unknown dtype", async () => {
    await expectCode(rawSafetensors({ w: { dtype: "Q4_K", shape: [1], data_offsets: [0, 1] } }, 1), "SAFETENSORS_DTYPE", ["w", "Q4_K"]);
    await expectCode(rawSafetensors({ w: { dtype: "f32", shape: [1], data_offsets: [0, 4] } }, 4), "SAFETENSORS_DTYPE"); // case matters
  });

  it("a bad shape: non-integers, negatives, non-numbers, overflow", async () => {
    for (const shape of [[1.5], [-1], ["2"], 4, [2 ** 53]]) {
      await expectCode(rawSafetensors({ w: { dtype: "F32", shape, data_offsets: [0, 4] } }, 4), "SAFETENSORS_SHAPE", ["w"]);
    }
    // Each dimension is a safe integer but the byte size overflows 2^53.
    await expectCode(rawSafetensors({ w: { dtype: "F64", shape: [2 ** 26, 2 ** 26, 8], data_offsets: [0, 8] } }, 8), "SAFETENSORS_SHAPE", ["overflows"]);
  });

  it("malformed data_offsets", async () => {
    for (const data_offsets of [[0], [0, 4, 8], [8, 4], [0, -4], [0, 4.5], "0,4", [0, "4"], null]) {
      await expectCode(rawSafetensors({ w: { dtype: "U8", shape: [4], data_offsets } }, 8), "SAFETENSORS_OFFSETS", ["w"]);
    }
  });

  it("offsets outside the data buffer (a truncated file)", async () => {
    await expectCode(rawSafetensors({ a: f32(0, 8), b: f32(8, 16) }, 12), "SAFETENSORS_OFFSET_OUT_OF_BOUNDS", ["b"]);
  });

  it("overlapping tensors", async () => {
    await expectCode(rawSafetensors({ a: f32(0, 8), b: f32(4, 12) }, 12), "SAFETENSORS_OVERLAP", ["b"]);
    await expectCode(rawSafetensors({ a: f32(0, 8), b: f32(0, 8) }, 8), "SAFETENSORS_OVERLAP");
  });

  it("non-contiguous tensors (a gap, also before the first)", async () => {
    await expectCode(rawSafetensors({ a: f32(0, 4), b: f32(8, 12) }, 12), "SAFETENSORS_GAP", ["b"]);
    await expectCode(rawSafetensors({ a: f32(4, 8) }, 8), "SAFETENSORS_GAP", ["a"]);
  });

  it("a byte range that does not match product(shape) × dtype size", async () => {
    await expectCode(rawSafetensors({ a: f32(0, 8, [3]) }, 8), "SAFETENSORS_BYTE_LENGTH", ["a", "12"]);
    await expectCode(rawSafetensors({ a: { dtype: "BF16", shape: [2, 2], data_offsets: [0, 4] } }, 4), "SAFETENSORS_BYTE_LENGTH");
  });

  it("bytes after the last tensor (the reference's MetadataIncompleteBuffer)", async () => {
    await expectCode(rawSafetensors({ a: f32(0, 8) }, 9), "SAFETENSORS_TRAILING_BYTES");
  });

  it("duplicate tensor names", async () => {
    await expectCode(
      rawSafetensors('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', 2),
      "SAFETENSORS_DUPLICATE_NAME",
      ["a"],
    );
  });

  it("non-string metadata", async () => {
    await expectCode(rawSafetensors({ __metadata__: { step: 3 } }), "SAFETENSORS_METADATA", ["step"]);
    await expectCode(rawSafetensors({ __metadata__: ["x"] }), "SAFETENSORS_METADATA");
    // null metadata is what serde reads as "none": accepted.
    const r = await open(rawSafetensors({ __metadata__: null }));
    assert.equal(r.metadata, undefined);
  });

  it("closes the source when the header is refused", async () => {
    const src = spySource(rawSafetensors({ a: f32(0, 8) }, 9));
    await assert.rejects(openSafetensors(src, FILE), CheckpointError);
    assert.ok(src.closed);
  });

  it("random corruption only ever yields CheckpointErrors (or a valid file)", async () => {
    const good = serializeSafetensors(
      {
        a: { dtype: "float32", shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
        b: { dtype: "int8", shape: [3], data: Int8Array.from([1, 2, 3]) },
      },
      { k: "v" },
      { floatDtype: "BF16" },
    );
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let refused = 0;
    for (let trial = 0; trial < 1500; trial++) {
      const bytes = good.slice(0, trial % 7 === 0 ? Math.floor(rand() * good.length) : good.length);
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips && bytes.length > 0; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      try {
        await parseSafetensors(bytes, FILE);
      } catch (e) {
        assert.ok(e instanceof CheckpointError, `trial ${trial}: ${String(e)}`);
        refused++;
      }
    }
    assert.ok(refused > 300, `most corruptions are caught (${refused})`);
  });
});
