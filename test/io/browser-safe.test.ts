/** The parsing side of checkpoint I/O must run in a browser (DESIGN.md): no Node module, however deep. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");
const BROWSER_SAFE = [
  "io/safetensors.ts", "io/safetensors-write.ts", "io/shard-index.ts", "io/json-parse.ts", "io/byte-source.ts", "io/npz.ts",
  // Attached modules, dictionaries and adapters run in the web lab's page too.
  "model/patch.ts", "model/patch-hash.ts", "sae/index.ts", "train/lora.ts", "train/peft-format.ts",
];

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

it("browser-safe io modules import no Node built-ins, directly or transitively", () => {
  const seen = new Set<string>();
  const stack = BROWSER_SAFE.map((f) => path.join(SRC, f));
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of imports(file)) {
      assert.ok(!spec.startsWith("node:") && !["fs", "path", "os", "crypto"].includes(spec), `${path.relative(SRC, file)} imports ${spec}`);
      if (spec.startsWith(".")) stack.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
    }
  }
  assert.ok(seen.size >= 8, `walked the import graph (${seen.size} files)`);
});
