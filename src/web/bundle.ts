/**
 * The page's code, bundled in memory by esbuild when the lab starts (no build step, nothing
 * written): src/web/ui/main.ts and what it imports from the browser-safe core, split so that what
 * a tab imports lazily (vega for the store's plots) loads only when the tab opens.
 *
 * Node built-ins and Node-only packages are marked external: the core reaches them only through
 * dynamic imports on Node code paths (loadModel's directory reader, the stats store on disk),
 * which the page never takes; test/io/browser-entry.test.ts keeps the static graph clean.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface UiBundle {
  /** Served path ("/app/main.js") → file contents. */
  files: Map<string, string>;
}

const UI_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "ui");

const NODE_ONLY = ["node:*", "better-sqlite3", "web-worker", "esbuild", "hono", "@hono/*", "playwright-core", "tsx"];

export async function bundleUi(): Promise<UiBundle> {
  const result = await build({
    entryPoints: [path.join(UI_DIR, "main.ts")],
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outdir: "/app",
    write: false,
    minify: false,
    sourcemap: false,
    external: NODE_ONLY,
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const files = new Map<string, string>();
  for (const f of result.outputFiles) files.set(`/app/${path.basename(f.path)}`, f.text);
  return { files };
}

/** The page's HTML shell and stylesheet (read once). */
export async function uiStatic(): Promise<{ html: string; css: string }> {
  const { readFile } = await import("node:fs/promises");
  const [html, css] = await Promise.all([readFile(path.join(UI_DIR, "index.html"), "utf8"), readFile(path.join(UI_DIR, "style.css"), "utf8")]);
  return { html, css };
}
