import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { CheckpointError, ConfigError } from "../../src/errors.js";
import { JsonDuplicateKeyError, JsonSyntaxError, lineColumnAt, parseJsonStrict } from "../../src/io/json-parse.js";
import { readJsonFile, writeJsonFile } from "../../src/io/json.js";
import { rejectsWith, tempDir } from "./checkpoint-helpers.js";

describe("parseJsonStrict", () => {
  it("agrees with JSON.parse on valid documents", () => {
    const docs = [
      '{"a": [1, -2.5e3, 0, 1E-2, true, false, null], "b": {"c": "d\\n\\t\\"\\\\\\/\\u00e9\\ud83d\\ude00"}}',
      "[]",
      " {} ",
      '"x"',
      "-0",
      "12345678901234567890",
      '{"__proto__": {"polluted": true}, "constructor": 1}',
      JSON.stringify({ nested: Array.from({ length: 50 }, (_, i) => ({ i, s: "ü€😀".repeat(i % 3) })) }, null, 2),
    ];
    for (const d of docs) assert.deepEqual(parseJsonStrict(d), JSON.parse(d), d);
    const proto = parseJsonStrict('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(proto), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  });

  it("reports line and column of syntax errors", () => {
    const cases: [string, number, number][] = [
      ['{\n  "a": 1,\n}', 3, 1],
      ['{"a" 1}', 1, 6],
      ["[1, 2", 1, 6],
      ['{"a": "unterminated', 1, 7],
      ["[01]", 1, 3],
      ["[1] x", 1, 5],
      ['{"a":\n\n   tru}', 3, 4],
      ['"tab\there"', 1, 5],
      ["", 1, 1],
      ["[-]", 1, 2],
      ['"\\x"', 1, 2],
    ];
    for (const [text, line, column] of cases) {
      assert.throws(
        () => parseJsonStrict(text),
        (e: unknown) => e instanceof JsonSyntaxError && e.line === line && e.column === column,
        `${JSON.stringify(text)} → line ${line}, column ${column}`,
      );
    }
  });

  it("refuses duplicate keys by default, with their path", () => {
    assert.throws(
      () => parseJsonStrict('{"a": {"b": 1,\n "b": 2}}'),
      (e: unknown) => e instanceof JsonDuplicateKeyError && e.key === "b" && e.path === "$.a" && e.line === 2 && e.column === 2,
    );
    assert.deepEqual(parseJsonStrict('{"a": 1, "a": 2}', { rejectDuplicateKeys: false }), { a: 2 });
  });

  it("counts lines from offsets", () => {
    assert.deepEqual(lineColumnAt("ab\ncd\r\nef", 0), { line: 1, column: 1 });
    assert.deepEqual(lineColumnAt("ab\ncd\r\nef", 4), { line: 2, column: 2 });
    assert.deepEqual(lineColumnAt("ab\ncd\r\nef", 7), { line: 3, column: 1 });
  });
});

describe("readJsonFile / writeJsonFile", () => {
  it("round-trips, tolerates a BOM, and reports missing files and syntax errors as typed errors", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, "sub", "x.json");
      await writeJsonFile(file, { a: [1, 2], b: "c" });
      assert.deepEqual(await readJsonFile(file), { a: [1, 2], b: "c" });
      await writeFile(file, '\uFEFF{"a": 1}');
      assert.deepEqual(await readJsonFile(file), { a: 1 });
      await writeFile(file, '{"a": 1,,}');
      await rejectsWith(() => readJsonFile(file), ConfigError, "JSON_SYNTAX", file, ["line 1, column 9"]);
      await rejectsWith(() => readJsonFile(file, { errorClass: CheckpointError }), CheckpointError, "JSON_SYNTAX", file);
      await writeFile(file, '{"a": 1, "a": 2}');
      await rejectsWith(() => readJsonFile(file), ConfigError, "JSON_DUPLICATE_KEY", file, ['"a"']);
      await rejectsWith(() => readJsonFile(path.join(dir, "none.json")), ConfigError, "FILE_MISSING", "none.json");
      await rejectsWith(() => readJsonFile(dir), ConfigError, "FILE_IS_DIRECTORY", dir);
    } finally {
      await cleanup();
    }
  });
});
