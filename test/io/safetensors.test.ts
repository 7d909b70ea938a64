import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { CheckpointError } from "../../src/errors.js";
import type { HostTensor } from "../../src/io/host-tensor.js";
import { openSafetensors, parseSafetensors } from "../../src/io/safetensors.js";
import { openSafetensorsFile, writeSafetensors } from "../../src/io/safetensors-file.js";
import { serializeSafetensors } from "../../src/io/safetensors-write.js";
import { f16ToF32, bf16ToF32, f32ToF16Bits, f32ToBf16Bits } from "../../src/tensor/dtypes.js";
import { rawSafetensors, rejectsWith, spySource, tempDir } from "./checkpoint-helpers.js";

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => Array.from(new TextEncoder().encode(s));

describe("safetensors golden bytes", () => {
  // The reference's own unit tests (huggingface/safetensors safetensors/src/tensor.rs,
  // test_serialization, test_empty, test_serialization_forced_alignement), byte for byte.
  it("matches the reference writer: one F32 tensor", () => {
    const out = serializeSafetensors({ "attn.0": { dtype: "float32", shape: [1, 2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) } });
    assert.deepEqual(Array.from(out), [
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34,
      115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91,
      48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it("matches the reference writer: space padding to 8 bytes", () => {
    const out = serializeSafetensors({ attn0: { dtype: "float32", shape: [1, 1, 2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) } });
    assert.deepEqual(Array.from(out), [
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115,
      104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58,
      91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
      160, 64,
    ]);
  });

  it("matches the reference writer: empty file, with and without metadata", () => {
    assert.deepEqual(Array.from(serializeSafetensors({})), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    assert.deepEqual(Array.from(serializeSafetensors({}, { framework: "pt" })), [
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111,
      114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  // Built by hand from the format description: header length 0xd0 = 208 (204 bytes of JSON + 4
  // spaces), tensors ordered I32 > F16 > BOOL (descending dtype alignment), data back to back.
  const handBuilt = [
    0xd0, 0, 0, 0, 0, 0, 0, 0,
    ...ascii(
      '{"__metadata__":{"format":"pt"},' +
        '"ids":{"dtype":"I32","shape":[3],"data_offsets":[0,12]},' +
        '"w":{"dtype":"F16","shape":[2,2],"data_offsets":[12,20]},' +
        '"mask":{"dtype":"BOOL","shape":[2],"data_offsets":[20,22]}}    ',
    ),
    1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 7, 0, 0, 0, // ids = [1, -2, 7], int32 little-endian
    0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b, // w = [1, -2, 0.5, 65504] as float16 bits 3C00 C000 3800 7BFF
    1, 0, // mask = [true, false]
  ];
  const handTensors: Record<string, HostTensor> = {
    w: { dtype: "float32", shape: [2, 2], data: Float32Array.from([1, -2, 0.5, 65504]) },
    mask: { dtype: "bool", shape: [2], data: bytes(1, 0) },
    ids: { dtype: "int32", shape: [3], data: Int32Array.from([1, -2, 7]) },
  };

  it("writes the hand-built file byte for byte (memory and disk)", async () => {
    const mem = serializeSafetensors(handTensors, { format: "pt" }, { floatDtype: "F16" });
    assert.deepEqual(Array.from(mem), handBuilt);
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, "golden.safetensors");
      const size = await writeSafetensors(file, handTensors, { format: "pt" }, { floatDtype: "F16" });
      assert.equal(size, handBuilt.length);
      assert.deepEqual(Array.from(await readFile(file)), handBuilt);
    } finally {
      await cleanup();
    }
  });

  it("reads the hand-built file", async () => {
    const { metadata, tensors } = await parseSafetensors(Uint8Array.from(handBuilt), "golden");
    assert.deepEqual(metadata, { format: "pt" });
    assert.deepEqual(tensors.ids, { dtype: "int32", shape: [3], data: Int32Array.from([1, -2, 7]) });
    assert.deepEqual(tensors.w, { dtype: "float32", shape: [2, 2], data: Float32Array.from([1, -2, 0.5, 65504]) });
    assert.deepEqual(tensors.mask, { dtype: "bool", shape: [2], data: bytes(1, 0) });
  });

  it("reads a hand-built I64 file as int32", async () => {
    const file = [
      ...[0x40, 0, 0, 0, 0, 0, 0, 0],
      ...ascii('{"t":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}         '),
      ...[1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ];
    assert.equal(file.length, 8 + 64 + 16);
    const { tensors } = await parseSafetensors(Uint8Array.from(file), "i64");
    assert.deepEqual(tensors.t, { dtype: "int32", shape: [2], data: Int32Array.from([1, -2]) });
  });
});

describe("safetensors round trips", () => {
  const cases: Record<string, HostTensor> = {
    f32: { dtype: "float32", shape: [2, 3], data: Float32Array.from([0, -1.5, 3.25, 1e-30, -0, Infinity]) },
    f64: { dtype: "float64", shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
    i32: { dtype: "int32", shape: [2, 2], data: Int32Array.from([2147483647, -2147483648, 0, -7]) },
    i16: { dtype: "int16", shape: [3], data: Int16Array.from([32767, -32768, 5]) },
    i8: { dtype: "int8", shape: [3], data: Int8Array.from([127, -128, -1]) },
    u8: { dtype: "uint8", shape: [1, 3], data: Uint8Array.from([0, 255, 9]) },
    u16: { dtype: "uint16", shape: [2], data: Uint16Array.from([65535, 1]) },
    u32: { dtype: "uint32", shape: [2], data: Uint32Array.from([4294967295, 3]) },
    bool: { dtype: "bool", shape: [4], data: Uint8Array.from([1, 0, 0, 1]) },
    scalar: { dtype: "float32", shape: [], data: Float32Array.from([42]) },
    empty: { dtype: "float32", shape: [0, 4], data: new Float32Array(0) },
    odd: { dtype: "int8", shape: [5], data: Int8Array.from([1, 2, 3, 4, 5]) },
  };

  it("round-trips every host dtype exactly, NaN, -0, scalars and empty tensors included", async () => {
    const withNaN = { ...cases, nan: { dtype: "float32", shape: [1], data: Float32Array.from([NaN]) } as HostTensor };
    const { tensors } = await parseSafetensors(serializeSafetensors(withNaN, { note: "x" }), "mem");
    assert.deepEqual(Object.keys(tensors).sort(), Object.keys(withNaN).sort());
    for (const [name, t] of Object.entries(withNaN)) assert.deepEqual(tensors[name], t, name);
    assert.ok(Object.is(tensors.f32!.data[4], -0));
  });

  it("aligns every tensor's data to its element size (descending dtype order)", async () => {
    const out = serializeSafetensors(cases);
    const reader = await openSafetensors(spySource(out), "mem");
    for (const name of reader.names()) {
      const e = reader.header.tensors.get(name)!;
      const size = { F64: 8, F32: 4, I32: 4, U32: 4, I16: 2, U16: 2 }[e.dtype as string] ?? 1;
      assert.equal((reader.header.dataStart + e.begin) % size, 0, name);
    }
    assert.deepEqual(reader.names(), ["f64", "empty", "f32", "scalar", "u32", "i32", "u16", "i16", "i8", "odd", "u8", "bool"]);
  });

  it("stores floats as F16 and BF16 on request, rounding to nearest even", async () => {
    const values = Float32Array.from([1, -2.5, 0.1, 65504, 70000, 1e-8, 3.14159, -0, Infinity, 1.00048828125]);
    for (const floatDtype of ["F16", "BF16"] as const) {
      const out = serializeSafetensors(
        { x: { dtype: "float32", shape: [values.length], data: values }, d: { dtype: "float64", shape: [1], data: Float64Array.from([0.1]) } },
        undefined,
        { floatDtype },
      );
      const reader = await openSafetensors(spySource(out), "mem");
      assert.equal(reader.info("x").dtype, floatDtype);
      assert.equal(reader.info("d").dtype, floatDtype);
      const toBits = floatDtype === "F16" ? f32ToF16Bits : f32ToBf16Bits;
      const back = floatDtype === "F16" ? f16ToF32 : bf16ToF32;
      const expected = back(new Uint8Array(Uint16Array.from(values, (v) => toBits(v)).buffer));
      const got = await reader.read("x");
      assert.equal(got.dtype, "float32");
      assert.deepEqual(got.data, expected);
      // An independent check of a few values: 0.1 → f16 0x2E66 = 0.0999755859375; bf16 0x3DCD = 0.10009765625.
      assert.equal(got.data[2], floatDtype === "F16" ? 0.0999755859375 : 0.10009765625);
      assert.equal(got.data[4], floatDtype === "F16" ? Infinity : 70144);
    }
  });

  it("readF32 converts every float dtype and refuses integers", async () => {
    const out = serializeSafetensors({
      a: { dtype: "float64", shape: [2], data: Float64Array.from([0.5, -3]) },
      b: { dtype: "float32", shape: [1], data: Float32Array.from([7]) },
      c: { dtype: "int32", shape: [1], data: Int32Array.from([7]) },
    });
    const r = await openSafetensors(spySource(out), "mem.safetensors");
    assert.deepEqual(await r.readF32("a"), { shape: [2], data: Float32Array.from([0.5, -3]) });
    assert.deepEqual(await r.readF32("b"), { shape: [1], data: Float32Array.from([7]) });
    await rejectsWith(() => r.readF32("c"), CheckpointError, "TENSOR_NOT_FLOAT", "mem.safetensors", ["c"]);
    await rejectsWith(() => r.read("bb"), CheckpointError, "TENSOR_NOT_FOUND", "mem.safetensors", ['did you mean "b"']);
  });

  it("reads one tensor of a larger file by fetching only its bytes", async () => {
    const big: Record<string, HostTensor> = {};
    for (let i = 0; i < 8; i++) big[`layer.${i}`] = { dtype: "float32", shape: [256, 64], data: new Float32Array(256 * 64).fill(i) };
    const out = serializeSafetensors(big);
    const src = spySource(out);
    const r = await openSafetensors(src, "big");
    const headerReads = src.reads.length;
    const headerBytes = src.reads.reduce((s, [, n]) => s + n, 0);
    assert.equal(headerBytes, r.header.dataStart, "opening reads exactly the length prefix and the header");
    const t = await r.read("layer.5");
    assert.equal(t.data[0], 5);
    const e = r.header.tensors.get("layer.5")!;
    assert.deepEqual(src.reads.slice(headerReads), [[r.header.dataStart + e.begin, 256 * 64 * 4]]);
    await r.close();
    assert.ok(src.closed);
  });

  it("narrows I64 to int32 and names the tensor when a value does not fit", async () => {
    const make = (lo: number, hi: number) => {
      const data = new Uint8Array(16);
      const v = new DataView(data.buffer);
      v.setInt32(0, 5, true);
      v.setUint32(8, lo, true);
      v.setUint32(12, hi, true);
      return rawSafetensors({ pos: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, data);
    };
    const ok = await parseSafetensors(make(0xfffffffe, 0xffffffff), "ok");
    assert.deepEqual(ok.tensors.pos!.data, Int32Array.from([5, -2]));
    await rejectsWith(() => parseSafetensors(make(0, 1), "big.safetensors"), CheckpointError, "SAFETENSORS_INT64_RANGE", "big.safetensors", ["pos", "4294967296"]);
    await rejectsWith(() => parseSafetensors(make(0x80000000, 0), "big.safetensors"), CheckpointError, "SAFETENSORS_INT64_RANGE", "big.safetensors", ["2147483648"]);
    const u64 = new Uint8Array(8);
    u64[0] = 9;
    const u = await parseSafetensors(rawSafetensors({ n: { dtype: "U64", shape: [1], data_offsets: [0, 8] } }, u64), "u64");
    assert.deepEqual(u.tensors.n, { dtype: "uint32", shape: [1], data: Uint32Array.from([9]) });
  });

  it("refuses FP8 tensors on read but still opens the file", async () => {
    const file = rawSafetensors({ a: { dtype: "F8_E4M3", shape: [2], data_offsets: [0, 2] }, b: { dtype: "U8", shape: [1], data_offsets: [2, 3] } }, 3);
    const r = await openSafetensors(spySource(file), "fp8.safetensors");
    assert.deepEqual(r.info("a"), { dtype: "F8_E4M3", shape: [2] });
    assert.deepEqual((await r.read("b")).data, Uint8Array.from([0]));
    await rejectsWith(() => r.read("a"), CheckpointError, "SAFETENSORS_DTYPE_UNSUPPORTED", "fp8.safetensors", ["a"]);
  });

  it("sorts names by code point (Rust's String order), not by UTF-16 unit", async () => {
    // U+FF21 (one UTF-16 unit) sorts before U+1F600 (a surrogate pair) by code point, after it by unit.
    const t = (): HostTensor => ({ dtype: "uint8", shape: [1], data: Uint8Array.from([1]) });
    const r = await openSafetensors(spySource(serializeSafetensors({ "\u{1F600}": t(), "\uFF21": t(), b: t() })), "mem");
    assert.deepEqual(r.names(), ["b", "\uFF21", "\u{1F600}"]);
  });

  it("streams a file to disk and reads it back lazily", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, "x.safetensors");
      await writeSafetensors(file, cases, { a: "1" });
      const r = await openSafetensorsFile(file);
      assert.deepEqual(r.metadata, { a: "1" });
      for (const [name, t] of Object.entries(cases)) assert.deepEqual(await r.read(name), t, name);
      await r.close();
      await rejectsWith(() => openSafetensorsFile(path.join(dir, "nope.safetensors")), CheckpointError, "SAFETENSORS_FILE_MISSING", "nope.safetensors");
    } finally {
      await cleanup();
    }
  });

  it("refuses invalid tensors on write", () => {
    const check = (tensors: Record<string, HostTensor>, code: string) =>
      assert.throws(() => serializeSafetensors(tensors), (e: unknown) => e instanceof CheckpointError && e.code === code);
    check({ x: { dtype: "float32", shape: [3], data: new Float32Array(2) } }, "TENSOR_SHAPE");
    check({ x: { dtype: "float32", shape: [-1], data: new Float32Array(0) } }, "TENSOR_SHAPE");
    check({ x: { dtype: "float32", shape: [2], data: new Int32Array(2) } as unknown as HostTensor }, "TENSOR_DTYPE");
    check({ __metadata__: { dtype: "float32", shape: [1], data: new Float32Array(1) } }, "TENSOR_NAME_RESERVED");
    assert.throws(() => serializeSafetensors({}, { a: 1 } as unknown as Record<string, string>), (e: unknown) => e instanceof CheckpointError && e.code === "SAFETENSORS_METADATA");
  });
});
