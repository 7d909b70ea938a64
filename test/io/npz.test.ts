/** .npz reading (src/io/npz.ts, zip.ts, npy.ts): real layouts decode exactly; hostile files are refused. */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { crc32 as zlibCrc32 } from "node:zlib";
import { CheckpointError } from "../../src/errors.js";
import { parseNpyHeader } from "../../src/io/npy.js";
import { readNpz } from "../../src/io/npz.js";
import { readNpzFile } from "../../src/io/npz-node.js";
import { crc32 } from "../../src/io/zip.js";
import { rejectsWith, tempDir } from "./checkpoint-helpers.js";
import { bytesOf, npy, npzF32, zip } from "./npz-fixture.js";

const FILE = "params.npz";
const refuses = (bytes: Uint8Array, code: string, mentions: string[] = []) => rejectsWith(() => readNpz(bytes, FILE), CheckpointError, code, FILE, mentions);
const one = (data: Uint8Array, name = "x.npy") => zip([{ name, data }]);

describe("readNpz: what numpy writes", () => {
  const W = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1.25);
  const b = Float32Array.from([Math.PI, -0, 1e-30]);

  for (const deflate of [false, true]) {
    it(`float32 members, ${deflate ? "deflated (savez_compressed)" : "stored (savez)"}, ZIP64 local headers`, async () => {
      const t = await readNpz(npzF32({ W: { shape: [2, 3], data: W }, b: { shape: [3], data: b } }, deflate), FILE);
      assert.deepEqual(Object.keys(t).sort(), ["W", "b"]);
      assert.equal(t.W!.dtype, "float32");
      assert.deepEqual(t.W!.shape, [2, 3]);
      assert.deepEqual(t.W!.data, W);
      assert.deepEqual(t.b!.data, b);
      assert.ok(Object.is(t.b!.data[1], -0));
    });
  }

  it("every supported dtype, in format versions 1.0, 2.0 and 3.0", async () => {
    const half = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000]); // 1, -2, 65504, 2^-24, inf, -0
    const t = await readNpz(
      zip([
        { name: "f8.npy", data: npy("<f8", [2], bytesOf(Float64Array.from([0.1, -1e300])), { version: 2 }) },
        { name: "f2.npy", data: npy("<f2", [6], bytesOf(half), { version: 3 }), deflate: true },
        { name: "i4.npy", data: npy("<i4", [2, 2], bytesOf(Int32Array.from([-1, 2, 2147483647, -2147483648]))) },
        { name: "i8.npy", data: npy("<i8", [3], bytesOf(BigInt64Array.from([-5n, 0n, 2147483647n]))) },
        { name: "u1.npy", data: npy("|u1", [3], Uint8Array.from([0, 128, 255])) },
        { name: "b1.npy", data: npy("|b1", [2], Uint8Array.from([1, 0])) },
        { name: "scalar.npy", data: npy("<f4", [], bytesOf(Float32Array.from([7]))) },
        { name: "empty.npy", data: npy("<f4", [0, 3], new Uint8Array(0)) },
      ]),
      FILE,
    );
    assert.deepEqual(t.f8, { dtype: "float64", shape: [2], data: Float64Array.from([0.1, -1e300]) });
    assert.equal(t.f2!.dtype, "float32");
    assert.deepEqual([...t.f2!.data], [1, -2, 65504, 2 ** -24, Infinity, -0]);
    assert.deepEqual(t.i4, { dtype: "int32", shape: [2, 2], data: Int32Array.from([-1, 2, 2147483647, -2147483648]) });
    assert.deepEqual(t.i8, { dtype: "int32", shape: [3], data: Int32Array.from([-5, 0, 2147483647]) });
    assert.deepEqual(t.u1, { dtype: "uint8", shape: [3], data: Uint8Array.from([0, 128, 255]) });
    assert.deepEqual(t.b1, { dtype: "bool", shape: [2], data: Uint8Array.from([1, 0]) });
    assert.deepEqual(t.scalar, { dtype: "float32", shape: [], data: Float32Array.from([7]) });
    assert.deepEqual(t.empty, { dtype: "float32", shape: [0, 3], data: new Float32Array(0) });
  });

  it("Fortran-order arrays come back row-major", async () => {
    // Row-major [[0,1,2],[3,4,5]] stored column-major is 0,3,1,4,2,5.
    const t = await readNpz(one(npy("<f4", [2, 3], bytesOf(Float32Array.from([0, 3, 1, 4, 2, 5])), { fortran: true })), FILE);
    assert.deepEqual([...t.x!.data], [0, 1, 2, 3, 4, 5]);
    // 3-D: element (i,j,k) of shape (2,3,4) stored at i + 2j + 6k.
    const shape = [2, 3, 4];
    const col = new Float32Array(24);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) col[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
    const u = await readNpz(one(npy("<f4", shape, bytesOf(col), { fortran: true })), FILE);
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) want.push(100 * i + 10 * j + k);
    assert.deepEqual([...u.x!.data], want);
  });

  it("header dicts in the forms numpy writes", () => {
    const at = { file: FILE };
    assert.deepEqual(parseNpyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (16, 32), }", at), { descr: "<f4", fortranOrder: false, shape: [16, 32] });
    assert.deepEqual(parseNpyHeader("{'descr': '|u1', 'fortran_order': True, 'shape': (5,), }      \n", at), { descr: "|u1", fortranOrder: true, shape: [5] });
    assert.deepEqual(parseNpyHeader('{"shape": (), "fortran_order": False, "descr": "<f8"}', at), { descr: "<f8", fortranOrder: false, shape: [] });
  });

  it("CRC-32 agrees with zlib", () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff);
    assert.equal(crc32(data), zlibCrc32(data) >>> 0);
  });

  it("readNpzFile reads from disk and names a missing file", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, "a.npz");
      // Stored members at odd offsets inside a Node Buffer: Buffer.slice() is a view, so decoding must copy.
      for (const deflate of [false, true]) {
        writeFileSync(file, npzF32({ v: { shape: [2], data: Float32Array.from([1, 2]) }, w: { shape: [1], data: Float32Array.from([3]) } }, deflate));
        const t = await readNpzFile(file);
        assert.deepEqual([...t.v!.data, ...t.w!.data], [1, 2, 3]);
      }
      const t = await readNpz(Buffer.from(npzF32({ v: { shape: [1], data: Float32Array.from([5]) } })), FILE);
      assert.deepEqual([...t.v!.data], [5]);
      await rejectsWith(() => readNpzFile(path.join(dir, "nope.npz")), CheckpointError, "NPZ_FILE_MISSING", "nope.npz");
    } finally {
      await cleanup();
    }
  });

  it("npz.ts, npy.ts and zip.ts import no Node built-ins (browser-safe)", () => {
    const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");
    const seen = new Set<string>();
    const stack = ["io/npz.ts"].map((f) => path.join(src, f));
    while (stack.length > 0) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
        assert.ok(!m[1]!.startsWith("node:"), `${path.relative(src, file)} imports ${m[1]}`);
        if (m[1]!.startsWith(".")) stack.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ".ts")));
      }
    }
    assert.ok(seen.has(path.join(src, "io/zip.ts")) && seen.has(path.join(src, "io/npy.ts")));
  });
});

describe("readNpz: hostile and broken files", () => {
  const f4 = (n: number) => bytesOf(new Float32Array(n));

  it("an object array carrying a pickle payload", async () => {
    // What np.save(f, np.array([os.system], dtype=object), allow_pickle=True) writes: a '|O' header, then a pickle.
    const pickle = Uint8Array.from([0x80, 0x04, 0x95, ...new TextEncoder().encode("cos\nsystem\n(S'echo pwned'\ntR."), 0x2e]);
    const err = await refuses(one(npy("|O", [1], pickle), "payload.npy"), "NPY_OBJECT", ["payload.npy", "pickle"]);
    assert.match(err.fix!, /numeric dtype/);
  });

  it("a member that is itself a pickle, and a member that is not an array", async () => {
    await refuses(one(Uint8Array.from([0x80, 0x04, 0x95, 0, 0]), "w.npy"), "NPY_PICKLE", ["w.npy"]);
    await refuses(one(Uint8Array.from([0x80, 0x04]), "w.pkl"), "NPZ_MEMBER", ["w.pkl"]);
  });

  it("a data length that disagrees with the shape", async () => {
    await refuses(one(npy("<f4", [4, 4], f4(15)), "W_enc.npy"), "NPY_LENGTH", ["W_enc.npy", "64", "60"]);
    await refuses(one(npy("<f4", [2], f4(3))), "NPY_LENGTH");
  });

  it("truncated archives", async () => {
    const good = npzF32({ W: { shape: [8, 8], data: new Float32Array(64) } });
    await refuses(good.subarray(0, good.length - 10), "ZIP_NO_DIRECTORY");
    await refuses(good.subarray(0, 10), "ZIP_TRUNCATED");
    await refuses(new Uint8Array(0), "ZIP_TRUNCATED");
    // Cut out the middle of the data: the directory survives but points past the end.
    const cut = new Uint8Array(good.length - 100);
    cut.set(good.subarray(0, 150));
    cut.set(good.subarray(250), 150);
    await refuses(cut, "ZIP_TRUNCATED");
  });

  it("corrupted data fails the CRC; broken DEFLATE is refused", async () => {
    const good = npzF32({ W: { shape: [4], data: Float32Array.from([1, 2, 3, 4]) } });
    const bad = good.slice();
    bad[bad.indexOf(0x80, 150)] ^= 1; // a byte inside the float data (1.0 = 00 00 80 3f)
    await refuses(bad, "ZIP_CRC", ["W.npy"]);
    const z = zip([{ name: "W.npy", data: npy("<f4", [4], f4(4)), deflate: true }]);
    z.fill(0xff, 30 + 5, 30 + 5 + 8); // garble the start of the deflate stream (after the 30 + 5-byte local header)
    await assert.rejects(() => readNpz(z, FILE), (e: unknown) => e instanceof CheckpointError && /ZIP_(INFLATE|SIZE|CRC)/.test(e.code) && e.message.includes(FILE));
  });

  it("bad magic, versions and header dicts", async () => {
    await refuses(one(new TextEncoder().encode("NUMPY this is not")), "NPY_MAGIC");
    const v4 = npy("<f4", [1], f4(1));
    v4[6] = 4;
    await refuses(one(v4), "NPY_VERSION");
    const hostile = [
      "{'descr': __import__('os').system('echo pwned'), 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<f4', 'fortran_order': False, }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1, }",
      "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk",
      "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1,), }",
      "['descr', '<f4']",
    ];
    for (const header of hostile) await refuses(one(npy("<f4", [1], f4(1), { header })), "NPY_HEADER", ["x.npy"]);
    await refuses(one(npy("", [1], f4(1), { header: "{'descr': [('a', '<f4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }" })), "NPY_DTYPE", ["structured"]);
  });

  it("dtypes it cannot hold: big-endian, complex, strings", async () => {
    await refuses(one(npy(">f4", [1], f4(1))), "NPY_BIG_ENDIAN", [">f4"]);
    await refuses(one(npy("<c8", [1], f4(2))), "NPY_DTYPE", ["<c8"]);
    await refuses(one(npy("<U3", [1], new Uint8Array(12))), "NPY_DTYPE");
  });

  it("int64 values beyond 32 bits are refused, not wrapped", async () => {
    await refuses(one(npy("<i8", [1], bytesOf(BigInt64Array.from([1n << 40n])))), "SAFETENSORS_INT64_RANGE", ["x.npy"]);
  });

  it("member names that escape the archive, and duplicates", async () => {
    const data = npy("<f4", [1], f4(1));
    await refuses(zip([{ name: "../../etc/W.npy", data }]), "ZIP_UNSAFE_NAME", ["../../etc/W.npy"]);
    await refuses(zip([{ name: "/abs/W.npy", data }]), "ZIP_UNSAFE_NAME");
    await refuses(zip([{ name: "a\\..\\W.npy", data }]), "ZIP_UNSAFE_NAME");
    await refuses(zip([{ name: "W.npy", data }, { name: "W.npy", data }]), "ZIP_DUPLICATE_NAME");
  });

  it("a member that inflates to more than it declares (a zip bomb) stops early", async () => {
    const big = new Uint8Array(1 << 20);
    const z = zip([{ name: "W.npy", data: big, deflate: true }]);
    // Rewrite the central directory's uncompressed size to 100 bytes.
    const dv = new DataView(z.buffer);
    const dir = dv.getUint32(z.length - 6, true);
    dv.setUint32(dir + 24, 100, true);
    await refuses(z, "ZIP_SIZE", ["100"]);
  });
});
