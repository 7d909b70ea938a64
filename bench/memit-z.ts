/**
 * MEMIT's z* phase three ways, on the same requests in one run (issue 21: MEMIT at scale):
 *
 *   one at a time   each request's optimisation alone, every step a whole forward+backward pass
 *                   with δ added by a hook (the reference code's compute_z, and scalpel's before
 *                   the batched optimisation): the reference row;
 *   batched         every request's rows in shared passes (compute-value.ts), still whole passes;
 *   batched+resume  as MEMIT runs it: shared passes that start after the z layer from the
 *                   unedited residual stream (ForwardOptions.startFrom), each row from the
 *                   subject's last token on, its earlier positions' keys and values cached.
 *
 * The three give the same z* (the largest relative difference is printed). Requests: the first
 * --n distinct-subject CounterFact cases of the model's world (<model>/data/counterfact.json, or,
 * for a training checkpoint without data, --world small|m to build the world from its seed).
 *
 * usage: node --import tsx bench/memit-z.ts [--model models/factworld] [--world small|m] [--n 12] [--steps S]
 */
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";

// Threads before jax-js loads (node-threads.ts), so everything else is imported after.
enableNodeThreads();
const { existsSync } = await import("node:fs");
const path = await import("node:path");
const { parseArgs } = await import("node:util");
const { counterFactCase } = await import("../src/data/editing/counterfact.js");
const { loadEditCases } = await import("../src/data/editing/load.js");
const { distinctSubjects } = await import("../src/data/editing/select.js");
const { counterfactRecords } = await import("../src/data/factworld/exports.js");
const { buildFactWorld, DEFAULT_SIZE, FACTWORLD_M_SIZE, FACTWORLD_SEED } = await import("../src/data/factworld/world.js");
const { computeTargetVectors } = await import("../src/edit/compute-value.js");
const { contextTemplates } = await import("../src/edit/context-templates.js");
const { memitDefaults } = await import("../src/edit/hparams.js");
const { loadModel } = await import("../src/model/load.js");
const { initEngine } = await import("../src/tensor/engine.js");
type ValueResult = import("../src/edit/compute-value.js").ValueResult;
type EditRequest = import("../src/edit/types.js").EditRequest;
const { values } = parseArgs({ options: { model: { type: "string", default: "models/factworld" }, world: { type: "string" }, n: { type: "string", default: "12" }, steps: { type: "string" } } });
await initEngine();
const model = await loadModel(values.model!);
const casesFile = path.join(values.model!, "data", "counterfact.json");
const cases = values.world
  ? counterfactRecords(buildFactWorld(FACTWORLD_SEED, values.world === "m" ? FACTWORLD_M_SIZE : DEFAULT_SIZE)).map((r, i) => counterFactCase("world", i, r))
  : existsSync(casesFile) ? await loadEditCases(casesFile) : (() => { throw new Error(`${casesFile} not found: pass --world small|m for a checkpoint without data`); })();
const requests: EditRequest[] = distinctSubjects(cases).slice(0, Number(values.n)).map((c) => c.request);
const base = memitDefaults(model.config);
const hp = { ...base, vNumGradSteps: Number(values.steps ?? base.vNumGradSteps) };
const templates = (await contextTemplates(model, hp, 0)).flat();
const zLayer = hp.layers.at(-1)!;
const resumed = `blocks.${zLayer}.hook_resid_post`;
// The same point as a hook on the whole pass (compute-value.ts resumes only after hook_resid_post / hook_mlp_out).
const hooked = zLayer + 1 < model.config.nLayers ? `blocks.${zLayer + 1}.hook_resid_pre` : undefined;
if (!hooked) throw new Error("z* after the last layer: nothing to compare");

// Warm-up (kernel compilation) for both kinds of pass.
await computeTargetVectors(model, requests.slice(0, 2), { ...hp, vNumGradSteps: 2 }, templates, hooked);
await computeTargetVectors(model, requests.slice(0, 2), { ...hp, vNumGradSteps: 2 }, templates, resumed);

async function timed(label: string, run: () => Promise<ValueResult[]>): Promise<{ label: string; ms: number; z: ValueResult[] }> {
  const t = performance.now();
  const z = await run();
  const ms = performance.now() - t;
  process.stderr.write(`${label}: ${(ms / 1000).toFixed(1)} s\n`);
  return { label, ms, z };
}
const rows = [
  await timed("one at a time, whole passes", async () => {
    const out: ValueResult[] = [];
    for (const r of requests) out.push((await computeTargetVectors(model, [r], hp, templates, hooked))[0]!);
    return out;
  }),
  await timed("batched, whole passes", () => computeTargetVectors(model, requests, hp, templates, hooked)),
  await timed("batched, resumed after the z layer (MEMIT's path)", () => computeTargetVectors(model, requests, hp, templates, resumed)),
];
function maxRelDiff(a: ValueResult[], b: ValueResult[]): number {
  let worst = 0;
  a.forEach((x, i) => {
    let d = 0, n = 0;
    x.target.forEach((v, j) => ((d = Math.max(d, Math.abs(v - b[i]!.target[j]!))), (n = Math.max(n, Math.abs(v)))));
    worst = Math.max(worst, d / n);
  });
  return worst;
}
const c = model.config;
console.log(`MEMIT z* on ${values.model} (${c.nLayers} layers, d_model ${c.dModel}, vocab ${c.vocabSize}): ${requests.length} requests, ${hp.vNumGradSteps} steps, ${templates.length} templates + ${hp.klPrompts.length} KL prompt(s), z after layer ${zLayer}`);
console.log("\n| z* phase | s | s / request | × faster than one at a time | max rel. diff of z* |\n|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${r.label} | ${(r.ms / 1000).toFixed(1)} | ${(r.ms / 1000 / requests.length).toFixed(2)} | ${(rows[0]!.ms / r.ms).toFixed(2)} | ${maxRelDiff(r.z, rows[0]!.z).toExponential(1)} |`);
}
console.log(`\nsteps taken: ${rows[2]!.z.map((z) => z.steps).join(" ")}`);
model.dispose();
await stopNodeThreads();
