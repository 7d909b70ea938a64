/**
 * `scalpel lab`: start the web lab (src/web/server.ts) on 127.0.0.1 and print its URL. The model
 * runs in the page; the server serves the page, the model folder's files and the store's JSON.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { DEFAULT_STATS_DIR } from "../../edit/stats-store-node.js";
import { DEFAULT_STORE_DIR } from "../../lab/store/store.js";
import { startLab } from "../../web/server.js";
import { parseFlags, type Command } from "../command.js";
import { resolveModelDir } from "../default-model.js";
import { numberFlag } from "./forward.js";

const usage = `scalpel lab — poke a model live in the browser

usage: scalpel lab [--model DIR] [--store DIR] [--stats DIR] [--port N]

  --model DIR   Hugging Face checkpoint folder served to the page (config.json, *.safetensors,
                tokenizer.json); default: the built-in fact-world model
  --store DIR   results store to browse (a folder holding scalpel.db); default: ${DEFAULT_STORE_DIR} when it exists
  --stats DIR   covariance statistics cache served to the page, so a live ROME/MEMIT edit reuses
                what 'scalpel edit' or the demo computed (default .scalpel/edit-cache when it exists)
  --port N      port on 127.0.0.1 (default 7860; 0 picks a free one)

The server binds to 127.0.0.1 only and serves nothing outside the model folder; the model runs in
the page (WebGPU where the browser has it, else WebAssembly). Open the printed URL; Ctrl-C stops.

views: next-token probabilities and continuations · logit lens · attention patterns ·
       live ROME/MEMIT edits with undo and patch download · live CAA steering · the results store`;

export const labCommand: Command = {
  name: "lab",
  summary: "Start the web lab: a model running in the browser, live edits and steering, the store",
  usage,
  async run(argv) {
    const { values } = parseFlags("lab", argv, { model: { type: "string" }, store: { type: "string" }, stats: { type: "string" }, port: { type: "string" } });
    const port = numberFlag("lab", "port", values.port, { integer: true, min: 0, max: 65535 }) ?? 7860;
    const storeDir = values.store ?? (existsSync(path.join(DEFAULT_STORE_DIR, "scalpel.db")) ? DEFAULT_STORE_DIR : undefined);
    const statsDir = values.stats ?? DEFAULT_STATS_DIR;
    const lab = await startLab({ modelDir: resolveModelDir(values.model), ...(storeDir ? { storeDir } : {}), statsDir, port });
    console.log(`scalpel lab: ${lab.url}  (model ${resolveModelDir(values.model)}${storeDir ? `, store ${storeDir}` : ", no store"}; Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      const stop = () => void lab.close().then(resolve);
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  },
};
