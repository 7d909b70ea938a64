/** src/steer runs in a browser (DESIGN.md): no Node module imported, directly or transitively. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

it("src/steer imports no Node built-ins, directly or transitively", () => {
  const seen = new Set<string>();
  const stack = readdirSync(path.join(SRC, "steer")).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, "steer", f));
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of imports(file)) {
      assert.ok(!spec.startsWith("node:") && !["fs", "path", "os", "crypto", "child_process"].includes(spec), `${path.relative(SRC, file)} imports ${spec}`);
      if (spec.startsWith(".")) stack.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
    }
  }
  assert.ok(seen.size >= 12, `walked the import graph (${seen.size} files)`);
});
