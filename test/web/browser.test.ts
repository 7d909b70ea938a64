/**
 * The web lab in a real browser (Chromium via playwright-core): load the lab on the built-in
 * model, check the page's next-token probabilities against `scalpel forward`'s, look at the logit
 * lens and attention, make a ROME edit in the page and see the new target win, revert it, steer,
 * and open a study in the store. Screenshots of each view go to test-output/web-lab/.
 * Skips, saying why, only where Chromium cannot run.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { main } from "../../src/cli/main.js";
import { BUILTIN_MODEL_DIR } from "../../src/cli/default-model.js";
import { openSafetensorsFile } from "../../src/io/safetensors-file.js";
import { loadExperiment } from "../../src/lab/config.js";
import { openStore } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";
import { softmax } from "../../src/model/sampling.js";
import { loadPatch } from "../../src/model/patch-file.js";
import { saveSaeLens } from "../../src/sae/formats-node.js";
import { initEngine } from "../../src/tensor/engine.js";
import { Rng } from "../../src/util/rng.js";
import { startLab, type LabServer } from "../../src/web/server.js";
import { launchChromium } from "./chromium.js";

const SHOTS = path.resolve("test-output/web-lab");
const STUDY = "lab-branin";
const PROMPT = "The city of Tosgein is located in";

let browser: Browser | undefined;
let skip: string | undefined;
let lab: LabServer;
let page: Page;

/** A small TPE study in a fresh store, for the store view. */
async function storeWithStudy(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), "scalpel-lab-store-"));
  const config = path.join(dir, "study.yaml");
  writeFileSync(config, [
    "kind: optimize-function",
    `name: ${STUDY}`,
    "seed: 1",
    "config: {function: branin, steps: 4}",
    "study:",
    "  n_trials: 8",
    "  sampler: tpe",
    "  executor: inline",
    "  space:",
    "    x0: {type: float, low: -5, high: 10}",
    "    x1: {type: float, low: 0, high: 15}",
    "",
  ].join("\n"));
  const store = openStore(dir);
  try {
    await runStudy(store, await loadExperiment(config), {});
  } finally {
    store.close();
  }
  return dir;
}

/**
 * An SAE on block 2's residual stream with random (untrained) weights, as a SAELens folder: the
 * features view only needs a dictionary of the right shape; training one is sae/'s tests' job.
 */
async function randomSae(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), "scalpel-lab-sae-"));
  const [dIn, dSae] = [192, 256];
  const rng = new Rng(5);
  const W_enc = Float32Array.from({ length: dIn * dSae }, () => rng.normal(0, 0.1));
  const W_dec = new Float32Array(dSae * dIn);
  for (let i = 0; i < dIn; i++) for (let j = 0; j < dSae; j++) W_dec[j * dIn + i] = W_enc[i * dSae + j]!;
  await saveSaeLens(dir, {
    kind: "sae", hookIn: "blocks.2.hook_resid_post", hookOut: "blocks.2.hook_resid_post", dIn, dSae, dOut: dIn, activation: { type: "relu" },
    W_enc: { shape: [dIn, dSae], data: W_enc }, W_dec: { shape: [dSae, dIn], data: W_dec },
    b_enc: { shape: [dSae], data: new Float32Array(dSae) }, b_dec: { shape: [dIn], data: new Float32Array(dIn) },
  });
  return dir;
}
let saeDir: string;

before(async () => {
  const launched = await launchChromium();
  if (typeof launched === "string") {
    skip = launched;
    return;
  }
  browser = launched;
  mkdirSync(SHOTS, { recursive: true });
  saeDir = await randomSae();
  lab = await startLab({ modelDir: BUILTIN_MODEL_DIR, storeDir: await storeWithStudy(), port: 0 });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => console.error("[page]", e.message));
  // ?device=wasm: the CLI runs on Wasm too, so the two computations are the same kernels.
  await page.goto(`${lab.url}?device=wasm#next`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120_000 });
});

after(async () => {
  await browser?.close();
  await lab?.close();
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const view = (id: string) => `[data-view-root="${id}"]`;

/** The top-k rows the next-token view shows: [id, probability]. */
async function pageTop(): Promise<[number, number][]> {
  return page.$$eval("#next-top tr[data-token-id]", (rows) => rows.map((r) => [Number(r.getAttribute("data-token-id")), Number(r.getAttribute("data-prob"))] as [number, number]));
}

async function predict(prompt: string): Promise<[number, number][]> {
  await page.click('[data-view="next"]');
  await page.fill(`${view("next")} textarea[name="prompt"]`, prompt);
  await page.click('[data-action="predict"]');
  await page.waitForSelector("#next-status.done", { timeout: 60_000 });
  return pageTop();
}

test("the page's next-token probabilities equal `scalpel forward`'s to 1e-5", async (t) => {
  if (skip) return t.skip(skip);
  assert.equal(await page.evaluate(() => document.body.dataset.ready), "model");
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, "COOP/COEP give the page SharedArrayBuffer (Wasm threads)");
  const inPage = await predict(PROMPT);
  await shot("next-token");
  await initEngine();
  const out = path.join(mkdtempSync(path.join(tmpdir(), "scalpel-fwd-")), "fwd.safetensors");
  assert.equal(await main(["forward", "--text", PROMPT, "--out", out]), 0);
  const reader = await openSafetensorsFile(out);
  const logits = await reader.readF32("logits");
  await reader.close();
  const [T, V] = logits.shape as [number, number];
  const probs = softmax(logits.data.subarray((T - 1) * V, T * V));
  const order = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, inPage.length);
  assert.deepEqual(inPage.map(([id]) => id).slice(0, 1), order.slice(0, 1), "the same top token");
  for (const [id, p] of inPage) assert.ok(Math.abs(p - probs[id]!) <= 1e-5, `token ${id}: page ${p}, CLI ${probs[id]}`);
});

test("logit lens and attention views render for the prompt", async (t) => {
  if (skip) return t.skip(skip);
  await page.click('[data-view="lens"]');
  await page.waitForSelector("#lens-grid tr[data-point]", { timeout: 60_000 });
  assert.equal(await page.locator("#lens-grid tr[data-point]").count(), 5, "embedding + 4 blocks");
  await shot("logit-lens");
  await page.click('[data-view="attention"]');
  await page.waitForSelector("#attention-heads [data-head]", { timeout: 60_000 });
  assert.ok((await page.locator("#attention-heads [data-head]").count()) >= 1);
  await shot("attention");
});

test("a live ROME edit makes the new target win; undo restores the model", async (t) => {
  if (skip) return t.skip(skip);
  await page.click('[data-view="edit"]');
  const root = view("edit");
  await page.waitForSelector(`${root} input[name="target"]`);
  const subject = await page.inputValue(`${root} input[name="subject"]`);
  const target = await page.inputValue(`${root} input[name="target"]`);
  const edited = (await page.inputValue(`${root} input[name="prompt"]`)).replace("{}", subject);
  assert.ok(subject && target && edited.includes(subject), "the form is pre-filled from the model's CounterFact export");
  const [[before]] = (await predict(edited)) as [[number, number]];
  await page.click('[data-view="edit"]');
  await page.click('[data-action="apply-edit"]');
  await page.waitForSelector("#edit-status.done, #edit-status.error", { timeout: 180_000 });
  assert.match((await page.textContent("#edit-status"))!, /done/);
  const after = (await page.textContent('#edit-result [data-row="prompt"] [data-col="after"]'))!.trim();
  assert.ok(after.startsWith(target), `after the edit the prompt is answered "${after}", expected ${target}`);
  await shot("edit");
  // The patch downloads as the safetensors file the CLI's loadPatch reads.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-action="download-patch"]')]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "scalpel-patch-")), "edit.safetensors");
  await download.saveAs(file);
  const patch = await loadPatch(file);
  assert.equal(patch.type, "weights");
  const changed = Object.keys(patch.type === "weights" ? patch.deltas : {});
  assert.equal(changed.length, 1);
  assert.match(changed[0]!, /^blocks\.\d+\.mlp\.W_out$/, "a rank-one update of one MLP output matrix");
  // The edit applies to the whole lab: the next-token view now predicts the new target.
  const [[now]] = (await predict(edited)) as [[number, number]];
  assert.notEqual(now, before, "the top next token changed after the edit");
  assert.match((await page.textContent("#next-top tr[data-token-id] td.tok"))!, new RegExp(target.replace(/·/g, " ").trim()), "…to the new target");
  await page.click('[data-view="edit"]');
  await page.click('[data-action="undo"]');
  const [[reverted]] = (await predict(edited)) as [[number, number]];
  assert.equal(reverted, before, "undo restores the original answer");
});

test("live steering shows unsteered and steered continuations side by side", async (t) => {
  if (skip) return t.skip(skip);
  await page.click('[data-view="steer"]');
  await page.click('[data-action="fit-vector"]');
  await page.waitForSelector("#steer-status.done, #steer-status.error", { timeout: 120_000 });
  assert.match((await page.textContent("#steer-status"))!, /done/);
  await page.fill(`${view("steer")} input[name="alpha"]`, "4");
  await page.click('[data-action="generate-steered"]');
  await page.waitForFunction(() => document.querySelector("#steer-status")?.classList.contains("done") && document.querySelector("#steer-steered")?.textContent?.trim(), null, { timeout: 120_000 });
  const [plain, steered] = [await page.textContent("#steer-plain"), await page.textContent("#steer-steered")];
  assert.ok(plain?.trim() && steered?.trim());
  assert.notEqual(plain, steered, "α = 4 changes the continuation");
  await shot("steer");
});

test("the SAE features view reads features per token and splices the dictionary into the lab", async (t) => {
  if (skip) return t.skip(skip);
  await page.click('[data-view="features"]');
  await page.setInputFiles('input[name="dictionary"]', [path.join(saeDir, "cfg.json"), path.join(saeDir, "sae_weights.safetensors")]);
  await page.waitForSelector("#features-status.done", { timeout: 60_000 });
  assert.match((await page.textContent("#features-dictionary"))!, /sae blocks\.2\.hook_resid_post, d_sae 256, relu/);
  await page.click('[data-action="read-features"]');
  await page.waitForSelector("#features-table tr[data-token]", { timeout: 60_000 });
  const tokens = await page.locator("#features-table tr[data-token]").count();
  assert.ok(tokens > 1);
  await page.click('[data-action="splice"]');
  await page.waitForSelector('#features-splice tr[data-row="splice"]', { timeout: 60_000 });
  assert.match((await page.textContent("#patches"))!, /sae splice at blocks\.2\.hook_resid_post/);
  await shot("sae-features");
  await page.click('[data-action="undo-last"]');
  assert.match((await page.textContent("#patches"))!, /no patches/);
});

test("the store view opens a study with its trials and plots", async (t) => {
  if (skip) return t.skip(skip);
  await page.click('[data-view="store"]');
  await page.click(`[data-study="${STUDY}"]`);
  await page.waitForSelector('#store-detail [data-plot="tpe-history"] svg', { timeout: 60_000 });
  await page.waitForSelector('#store-detail [data-plot="parallel-coordinates"] svg', { timeout: 60_000 });
  assert.match((await page.textContent("#store-detail"))!, new RegExp(STUDY));
  await shot("store-study");
});

test("a checkpoint folder picked in the page replaces the served model", async (t) => {
  if (skip) return t.skip(skip);
  await page.click('[data-view="next"]');
  await page.evaluate(() => (document.querySelector("#model-status")!.textContent = "")); // so only the new load can say "done"
  await page.setInputFiles("#folder", BUILTIN_MODEL_DIR);
  await page.waitForFunction(() => /loading factworld .*done/.test(document.querySelector("#model-status")?.textContent ?? ""), null, { timeout: 120_000 });
  await page.click('[data-view="next"]');
  await page.waitForSelector("#next-top tr[data-token-id]", { timeout: 60_000 });
  const top = await predict(PROMPT);
  assert.ok(top.length > 0 && top[0]![1] > 0);
});
