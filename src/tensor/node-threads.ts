/**
 * Turn on jax-js's Wasm worker pool in Node (the one Node-only file in tensor/; only Node entry
 * points import it).
 *
 * Why this is needed (ENGINE-NOTES.md): the Wasm backend starts workers only when a web-style
 * `Worker` global exists, and it creates them from `blob:` URLs, which Node's workers refuse. We
 * provide `Worker` from the `web-worker` package and make `URL.createObjectURL` hand out a `data:`
 * URL holding the worker's source. Workers only run kernels when results are read asynchronously
 * (`await x.data()`, `blockUntilReady()`); `dataSync()` stays on the calling thread.
 */
import os from "node:os";
import WebWorker from "web-worker";

const WORKER = Symbol.for("worker"); // where web-worker keeps the worker_threads.Worker
const live = new Set<{ [WORKER]?: { terminate(): Promise<number> } }>();
let enabled = false;

export function enableNodeThreads(threads = os.availableParallelism()): void {
  if (enabled) return;
  enabled = true;
  const sources = new WeakMap<Blob, string>();
  const NodeBlob = globalThis.Blob;
  globalThis.Blob = class extends NodeBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts?.every((p) => typeof p === "string")) sources.set(this, parts.join(""));
    }
  };
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob | MediaSource) => {
    const src = obj instanceof NodeBlob ? sources.get(obj) : undefined;
    return src === undefined ? createObjectURL(obj as Blob) : `data:text/javascript;base64,${Buffer.from(src).toString("base64")}`;
  };
  const Base = WebWorker as unknown as new (url: string | URL, opts?: object) => object;
  (globalThis as Record<string, unknown>).Worker = class extends Base {
    constructor(url: string | URL, opts?: object) {
      super(url, opts);
      live.add(this as never);
    }
  };
  // Node 20 has no `navigator`; jax-js sizes its pool from navigator.hardwareConcurrency.
  if (typeof (globalThis as { navigator?: unknown }).navigator === "undefined") {
    (globalThis as Record<string, unknown>).navigator = { hardwareConcurrency: threads };
  }
}

/** Terminate the worker pool so the process can exit (call at the end of a CLI command or bench). */
export async function stopNodeThreads(): Promise<void> {
  await Promise.all([...live].map((w) => w[WORKER]?.terminate()));
  live.clear();
}
