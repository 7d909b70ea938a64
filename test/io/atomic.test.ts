import assert from "node:assert/strict";
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { writeFileAtomic } from "../../src/io/atomic.js";
import { tempDir } from "./checkpoint-helpers.js";

describe("writeFileAtomic", () => {
  it("writes strings, bytes, and sync or async chunk streams", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, "a", "f.bin");
      await writeFileAtomic(file, "hello");
      assert.equal(await readFile(file, "utf8"), "hello");
      await writeFileAtomic(file, Uint8Array.from([1, 2]));
      assert.deepEqual([...(await readFile(file))], [1, 2]);
      await writeFileAtomic(file, [Uint8Array.from([1]), new Uint8Array(0), Uint8Array.from([2, 3])]);
      assert.deepEqual([...(await readFile(file))], [1, 2, 3]);
      async function* chunks() {
        for (let i = 0; i < 5; i++) yield Uint8Array.from([i, i]);
      }
      await writeFileAtomic(file, chunks());
      assert.deepEqual([...(await readFile(file))], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
      assert.deepEqual(await readdir(path.dirname(file)), ["f.bin"], "no temporary files left");
    } finally {
      await cleanup();
    }
  });

  it("leaves the old file intact and no temporary file when the data stream fails", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, "f.txt");
      await writeFile(file, "old");
      function* failing() {
        yield Uint8Array.from([110, 101, 119]);
        throw new Error("encoder failed");
      }
      await assert.rejects(writeFileAtomic(file, failing()), /encoder failed/);
      assert.equal(await readFile(file, "utf8"), "old");
      assert.deepEqual(await readdir(dir), ["f.txt"]);
    } finally {
      await cleanup();
    }
  });
});
