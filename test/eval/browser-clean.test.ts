/** The evaluation core runs in a browser too (DESIGN.md): src/eval/** imports no Node built-in, however deep. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";

const SRC = path.resolve(import.meta.dirname, "../../src");

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

it("src/eval and its imports use no Node module (file access lives in io/ and data/benchmarks/)", () => {
  const roots = ["eval", "eval/tasks"].flatMap((d) => readdirSync(path.join(SRC, d)).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, d, f)));
  assert.ok(roots.length >= 15, `${roots.length} files`);
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of imports(file)) {
      assert.ok(!spec.startsWith("node:") && !["fs", "path", "os", "crypto", "child_process"].includes(spec), `${path.relative(SRC, file)} imports ${spec}`);
      if (spec.startsWith(".")) stack.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
    }
  }
});
