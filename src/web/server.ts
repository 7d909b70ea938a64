/**
 * The web lab's server (`scalpel lab`): a Hono app on Node, bound to 127.0.0.1 only. It serves
 *
 *   /                 the page (index.html, style.css) and /app/*.js, its code bundled from src/
 *   /api/lab          what is served: the model folder's name and files, whether a store is open
 *   /model/<path>     files of the model folder, read by the page, which runs the model itself
 *   /stats/<key>.bin  covariance statistics the CLI cached (edit/stats-store-node.ts), so a live
 *                     ROME/MEMIT edit in the page need not recompute them
 *   /api/store/...    a read-only JSON view of the results store (store-api.ts)
 *
 * and nothing else: GET/HEAD only, every file path checked by safe-path.ts (no "..", no hidden
 * names, no symlink leaving the root), and a Host check so that a web page on another origin
 * cannot reach the lab through DNS rebinding. The page is cross-origin isolated (COOP/COEP) so
 * jax-js's Wasm backend gets SharedArrayBuffer and its worker threads.
 */
import { createReadStream, existsSync, promises as fs } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { UsageError } from "../errors.js";
import type { Store } from "../lab/store/store.js";
import { bundleUi, uiStatic } from "./bundle.js";
import { listFiles, resolveInside } from "./safe-path.js";
import { openStoreReadOnly, storeRoutes } from "./store-api.js";

export const LOOPBACK = "127.0.0.1";

export interface LabOptions {
  /** The checkpoint folder served to the page under /model/ (none: the page asks for a dropped folder). */
  modelDir?: string;
  /** The results store folder (holding scalpel.db), opened read-only; absent: no store API. */
  storeDir?: string;
  /** The covariance statistics cache served under /stats/ (what `scalpel edit` writes, .scalpel/edit-cache). */
  statsDir?: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
}

export interface LabServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".json": "application/json",
  ".safetensors": "application/octet-stream",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".jsonl": "application/x-ndjson",
  ".npy": "application/octet-stream",
};

/** The app (without a listening socket; tests drive it with app.request). `close` releases the store. */
export async function createLabApp(options: LabOptions = {}, allowedHosts?: () => string[]): Promise<{ app: Hono; close(): void }> {
  const modelDir = options.modelDir ? path.resolve(options.modelDir) : undefined;
  if (modelDir && !existsSync(path.join(modelDir, "config.json"))) {
    throw new UsageError("LAB_MODEL", `${modelDir} has no config.json`, { fix: "pass a Hugging Face checkpoint folder with --model DIR" });
  }
  const store: Store | undefined = options.storeDir ? openStoreReadOnly(options.storeDir) : undefined;
  const [bundle, statics, files] = await Promise.all([bundleUi(), uiStatic(), modelDir ? listFiles(modelDir) : Promise.resolve([])]);
  const statsDir = options.statsDir && existsSync(options.statsDir) ? path.resolve(options.statsDir) : undefined;
  const version = JSON.parse(await fs.readFile(new URL("../../package.json", import.meta.url), "utf8")).version as string;

  const app = new Hono();
  app.use("*", async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return c.json({ error: "the lab is read-only: GET only" }, 405);
    const hosts = allowedHosts?.();
    if (hosts && !hosts.includes(c.req.header("host") ?? "")) return c.json({ error: "unexpected Host header", fix: `open ${hosts[0]}` }, 403);
    await next();
    c.header("Cross-Origin-Opener-Policy", "same-origin");
    c.header("Cross-Origin-Embedder-Policy", "require-corp");
    c.header("Cross-Origin-Resource-Policy", "same-origin");
    c.header("X-Content-Type-Options", "nosniff");
  });
  app.get("/", (c) => c.html(statics.html));
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/style.css", (c) => c.body(statics.css, 200, { "Content-Type": "text/css; charset=utf-8" }));
  app.get("/app/:file", (c) => {
    const js = bundle.files.get(`/app/${c.req.param("file")}`);
    return js ? c.body(js, 200, { "Content-Type": "text/javascript; charset=utf-8" }) : c.json({ error: "no such script" }, 404);
  });
  app.get("/api/lab", (c) =>
    c.json({ model: modelDir ? { name: path.basename(modelDir), files } : null, store: store !== undefined, stats: statsDir !== undefined, version }),
  );
  app.get("/stats/:file", async (c) => {
    const file = statsDir && c.req.param("file").endsWith(".bin") ? await resolveInside(statsDir, c.req.param("file")) : null;
    return file ? c.body(new Uint8Array(await fs.readFile(file)), 200, { "Content-Type": "application/octet-stream" }) : c.json({ error: "no such statistics" }, 404);
  });
  app.get("/model/*", async (c) => {
    if (!modelDir) return c.json({ error: "no model is served", fix: "start the lab with --model DIR" }, 404);
    const rel = new URL(c.req.url).pathname.slice("/model/".length);
    const file = await resolveInside(modelDir, rel);
    if (!file) return c.json({ error: "not found" }, 404);
    const { size } = await fs.stat(file);
    const type = TYPES[path.extname(file)] ?? "application/octet-stream";
    const headers = { "Content-Type": type, "Content-Length": String(size) };
    if (c.req.method === "HEAD") return c.body(null, 200, headers);
    // Streamed: a real checkpoint's safetensors is gigabytes.
    return c.body(Readable.toWeb(createReadStream(file)) as ReadableStream, 200, headers);
  });
  if (store) app.route("/api/store", storeRoutes(store));
  else app.all("/api/store/*", (c) => c.json({ error: "no results store is served", fix: "start the lab with --store DIR (a folder holding scalpel.db)" }, 404));
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return { app, close: () => store?.close() };
}

/** Start the lab on 127.0.0.1 (never another interface) and return its URL. */
export async function startLab(options: LabOptions = {}): Promise<LabServer> {
  let port = options.port ?? 0;
  const hosts = () => [`${LOOPBACK}:${port}`, `localhost:${port}`];
  const { app, close } = await createLabApp(options, hosts);
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: LOOPBACK }, () => resolve(s));
    s.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new UsageError("LAB_PORT", `port ${port} is in use`, { fix: "pass another --port N (0 picks a free one)" }) : e),
    );
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        close();
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
