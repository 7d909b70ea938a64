/**
 * `npm run bench:web`: the web lab in Chromium (playwright-core driving the system Chromium) on
 * the built-in model, against the same computations in Node measured in the same run:
 *
 *   load        page open → model loaded in the page (bundle, engine start, safetensors fetch)
 *   predict     the next-token view's top-10 for a prompt (one forward)
 *   rome cold   the first live ROME edit of a page, covariance statistics computed in the page
 *               (the fact world's corpus, 2,000 texts: the library's default for small models)
 *   rome served the first live ROME edit of a fresh page whose lab serves the statistics the Node
 *               run below cached (`scalpel lab --stats`, default .scalpel/edit-cache: what
 *               `scalpel edit` and the demo write)
 *   rome warm   the same edit again after undo: the covariance is held for the page's lifetime
 *
 * Each page number is the editor's own time as the page reports it ("ROME itself X s"); the
 * before/after table is measured apart. The Node reference runs the library's ROME on the same
 * model and request (jax-js Wasm with worker threads in Node, the CLI's path): cold with an empty
 * statistics folder, then from that folder in a fresh EditCaches, then warm; ratio page / Node.
 * The issue's acceptance: a live ROME edit finishes in the page in under 30 s on this 2-core machine.
 * usage: node --import tsx bench/web-lab.ts [--out FILE.json]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BUILTIN_MODEL_DIR, builtinDataPath } from "../src/data/builtin-node.js";
import { EditCaches } from "../src/edit/caches.js";
import { getEditor } from "../src/edit/registry.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import { loadModel } from "../src/model/load.js";
import { initEngine } from "../src/tensor/engine.js";
import { formFromCounterFact } from "../src/web/ui/live-edit.js";
import { startLab } from "../src/web/server.js";
import { launchChromium } from "../test/web/chromium.js";

const { values } = parseArgs({ options: { out: { type: "string" } } });

const COUNTERFACT = builtinDataPath("counterfact");
const form = formFromCounterFact(JSON.parse(readFileSync(COUNTERFACT, "utf8")), COUNTERFACT);
const request = { prompt: form.prompt, subject: form.subject, targetNew: form.targetNew };

async function nodeReference(statsDir: string): Promise<{ cold: number; served: number; warm: number }> {
  await initEngine();
  const model = await loadModel(BUILTIN_MODEL_DIR);
  const editor = getEditor("rome");
  const time = async (caches: EditCaches) => {
    const t0 = performance.now();
    await editor.edit(model, [request], editor.defaults(model.config), { caches, cacheDir: statsDir });
    return (performance.now() - t0) / 1000;
  };
  const cold = await time(new EditCaches());
  const caches = new EditCaches();
  const served = await time(caches);
  const warm = await time(caches);
  model.dispose();
  return { cold, served, warm };
}

interface PageRun {
  load: number;
  predict: number;
  /** The editor's own seconds, first edit and the same edit after undo. */
  first: number;
  again: number;
  /** The whole step (editor + before/after table), first edit. */
  firstTotal: number;
  flipped: boolean;
  device: string;
}

async function inPage(statsDir?: string): Promise<PageRun> {
  const browser = await launchChromium();
  if (typeof browser === "string") throw new Error(browser);
  const lab = await startLab({ modelDir: BUILTIN_MODEL_DIR, ...(statsDir ? { statsDir } : {}), port: 0 });
  try {
    const page = await browser.newPage();
    let t0 = performance.now();
    await page.goto(lab.url + "#next");
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 300_000 });
    const load = (performance.now() - t0) / 1000;
    const device = (await page.textContent("#model-status"))!.match(/on (\w+)/)?.[1] ?? "?";
    await page.waitForSelector("#next-status.done", { timeout: 120_000 });
    t0 = performance.now();
    await page.click('[data-action="predict"]');
    await page.waitForSelector("#next-status.done", { timeout: 120_000 });
    const predict = (performance.now() - t0) / 1000;
    await page.click('[data-view="edit"]');
    await page.waitForSelector('input[name="target"]');
    const edit = async () => {
      const start = performance.now();
      await page.click('[data-action="apply-edit"]');
      await page.waitForFunction(() => /itself|error/.test(document.querySelector("#edit-status")?.textContent ?? "") || document.querySelector("#edit-status.error"), null, { timeout: 600_000 });
      const status = (await page.textContent("#edit-status"))!;
      const own = status.match(/itself ([\d.]+) s/);
      if (!own) throw new Error(`the edit failed in the page: ${status}`);
      return { own: Number(own[1]), total: (performance.now() - start) / 1000 };
    };
    const first = await edit();
    const after = (await page.textContent('#edit-result [data-row="prompt"] [data-col="after"]'))!.trim();
    await page.click('[data-action="undo"]');
    const again = await edit();
    return { load, predict, first: first.own, again: again.own, firstTotal: first.total, flipped: after.startsWith(form.targetNew), device };
  } finally {
    await browser.close();
    await lab.close();
  }
}

const statsDir = mkdtempSync(path.join(tmpdir(), "scalpel-bench-stats-"));
const computed = await inPage();
const node = await nodeReference(statsDir);
const served = await inPage(statsDir);
const rows: [string, number, number | undefined][] = [
  ["page load (model ready)", computed.load, undefined],
  ["next-token top-10", computed.predict, undefined],
  ["ROME edit, covariance computed (first edit)", computed.first, node.cold],
  ["ROME edit, covariance read from the stats cache (first edit)", served.first, node.served],
  ["ROME edit, covariance held (same edit after undo)", computed.again, node.warm],
];
console.log(`web lab on the built-in model (Chromium, page device ${computed.device}); edit: ${form.subject}: "${form.prompt}" → ${form.targetNew}`);
console.log("| step | page s | Node s (same run) | page / Node |");
console.log("|---|---:|---:|---:|");
for (const [name, p, n] of rows) console.log(`| ${name} | ${p.toFixed(2)} | ${n === undefined ? "" : n.toFixed(2)} | ${n === undefined ? "" : `${(p / n).toFixed(2)}×`} |`);
console.log(`first edit with the before/after table: ${computed.firstTotal.toFixed(1)} s (covariance computed), ${served.firstTotal.toFixed(1)} s (served)`);
console.log(`answer flipped to the new target: ${computed.flipped && served.flipped ? "yes" : "NO"}; acceptance (< 30 s): covariance computed ${computed.firstTotal < 30 ? "met" : "missed"}, served ${served.firstTotal < 30 ? "met" : "missed"}`);
if (values.out) await writeFileAtomic(values.out, JSON.stringify({ computed, served, node, request }, null, 2) + "\n");
