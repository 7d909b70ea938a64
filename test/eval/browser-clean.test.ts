/**
 * The cores that run in a browser too (DESIGN.md): src/eval/** and src/steer/** import no Node
 * built-in, however deep. File access lives in the layer's Node adapters, named *-node.ts
 * (steer/activation-cache-node.ts, eval/request-cache-node.ts …), which the core never imports.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";

const SRC = path.resolve(import.meta.dirname, "../../src");
const NODE_ONLY = ["fs", "path", "os", "crypto", "child_process"];

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

/** Every file reachable from the .ts files of `dirs` (relative imports followed). */
function walk(dirs: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = dirs.flatMap((d) => readdirSync(path.join(SRC, d)).filter((f) => f.endsWith(".ts") && !f.endsWith("-node.ts")).map((f) => path.join(SRC, d, f)));
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of imports(file)) {
      assert.ok(!spec.startsWith("node:") && !NODE_ONLY.includes(spec), `${path.relative(SRC, file)} imports ${spec}`);
      if (spec.startsWith(".")) stack.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
    }
  }
  return seen;
}

it("src/eval and its imports use no Node module", () => {
  assert.ok(walk(["eval", "eval/tasks"]).size >= 15);
});

it("src/steer and its imports use no Node module", () => {
  assert.ok(walk(["steer"]).size >= 12);
});
