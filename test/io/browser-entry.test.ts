/**
 * src/browser.ts, the entry the web lab bundles, reaches no Node built-in and no Node-only package
 * through its static imports, however deep. (Dynamic `import()`s of *-node.ts adapters, taken only
 * when a Node caller asks for disk caches, are outside the static graph a bundler must resolve.)
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";

const SRC = path.resolve(import.meta.dirname, "../../src");
const NODE_ONLY_PACKAGES = ["better-sqlite3", "web-worker", "tsx", "fs", "path", "os", "crypto", "child_process", "url", "worker_threads"];

function staticImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

it("the browser entry's static import graph holds no Node module", () => {
  const seen = new Set<string>();
  const stack = [path.join(SRC, "browser.ts")];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImports(file)) {
      const where = path.relative(SRC, file);
      assert.ok(!spec.startsWith("node:") && !NODE_ONLY_PACKAGES.includes(spec), `${where} imports ${spec}`);
      if (!spec.startsWith(".")) continue;
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts"));
      assert.ok(!target.endsWith("-node.ts"), `${where} statically imports the Node adapter ${path.relative(SRC, target)}`);
      stack.push(existsSync(target) ? target : target.replace(/\.ts$/, "/index.ts"));
    }
  }
  assert.ok(seen.size > 80, `walked ${seen.size} modules`);
});
