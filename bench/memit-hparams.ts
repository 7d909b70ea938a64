/**
 * MEMIT's hyperparameters on one batch of distinct subjects: z* steps × λ (mom2_update_weight) ×
 * layer sets, each scored as editing-scale.ts scores its batches (efficacy, paraphrase,
 * neighbourhood). z* depends only on the z layer (the last edited layer), the steps and v_lr, so
 * it is optimised once per such triple and every λ and layer set ending at that layer reuses it;
 * a grid point then costs one set of layer solves and one evaluation. Used to choose the overrides
 * that bench/editing-scale.ts gets with --hparams.
 *
 * usage: node --import tsx bench/memit-hparams.ts [--model models/factworld-m] [--n 100]
 *        [--steps 25,60] [--lambda 30,300,1000] [--layers 0-1,0-2] [--out FILE] [--choose FILE]
 * --choose: write the chosen grid point as editing-scale's --hparams file (EasyEdit key names): the
 * highest efficacy among the points whose neighbourhood stays within 10 points of the unedited
 * model's (issue 21's bar), ties to the better neighbourhood; AlphaEdit gets the same layers and
 * z* steps, so it reads MEMIT's z* from the store and the two are compared on the same vectors.
 * Covariance statistics and z* are cached in .scalpel/edit-cache (value-cache.ts), so editing-scale's
 * MEMIT batch of the same subjects and hyperparameters reads the grid's z*. Not part of the test suite.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { loadEditCases } from "../src/data/editing/load.js";
import { distinctSubjects } from "../src/data/editing/select.js";
import { contextTemplates } from "../src/edit/context-templates.js";
import { memitDefaults } from "../src/edit/hparams.js";
import { memitEdit } from "../src/edit/memit.js";
import { EditCaches } from "../src/edit/caches.js";
import { cachedTargetVectors } from "../src/edit/value-cache.js";
import { runProtocol } from "../src/edit/protocol.js";
import type { Editor, MemitHparams } from "../src/edit/index.js";
import { aggregateMetrics } from "../src/eval/editing/metrics.js";
import { loadModel } from "../src/model/load.js";
import { enableNativeExecutor } from "../src/model/native/enable-node.js";
import { initEngine } from "../src/tensor/engine.js";
import { writeFileAtomic } from "../src/io/atomic.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/factworld-m" },
    n: { type: "string", default: "100" },
    steps: { type: "string", default: "25,60" },
    lambda: { type: "string", default: "30,300,1000" },
    layers: { type: "string", default: "0-1" },
    out: { type: "string" },
    choose: { type: "string" },
  },
});
const numbers = (s: string) => s.split(",").map(Number);
const layerSets = values.layers!.split(",").map((r) => {
  const [a, b] = r.split("-").map(Number);
  return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
});

await initEngine();
await enableNativeExecutor();
const model = await loadModel(values.model!);
const cases = distinctSubjects(await loadEditCases(path.join(values.model!, "data", "counterfact.json"))).slice(0, Number(values.n));
const requests = cases.map((c) => c.request);
// One cache: the context templates are generated once, not once per grid point.
const context = { cacheDir: ".scalpel/edit-cache", caches: new EditCaches() };
const defaults = memitDefaults(model.config);
interface Row { steps: number; layers: number[]; lambda: number; zMeanNll: number; zShort: number; pre: ReturnType<typeof aggregateMetrics>; post: ReturnType<typeof aggregateMetrics> }
const rows: Row[] = [];
const pct = (x?: { mean: number }) => (x ? (100 * x.mean).toFixed(1) : "—");

console.log(`MEMIT, one batch of ${cases.length} distinct subjects on ${values.model}; scores ×100\n`);
console.log("| z* steps | layers | λ | z* mean −log P | z* > 0.5 | efficacy | paraphrase | neighbourhood (unedited) |\n|---|---|---|---|---|---|---|---|");
for (const steps of numbers(values.steps!)) {
  for (const zLayer of [...new Set(layerSets.map((l) => l.at(-1)!))]) {
    const hpZ: MemitHparams = { ...defaults, layers: [zLayer], vNumGradSteps: steps };
    const templates = await contextTemplates(model, hpZ, 0, context.caches);
    const t0 = performance.now();
    const use = { cached: 0, computed: 0 };
    const z = await cachedTargetVectors(model, requests, hpZ, templates.flat(), `blocks.${zLayer}.hook_resid_post`, context, undefined, use);
    console.error(`z* after layer ${zLayer}, ${steps} steps: ${use.computed} optimised in ${((performance.now() - t0) / 1000).toFixed(0)} s, ${use.cached} read from the store`);
    const meanNll = z.reduce((a, r) => a + r.nll, 0) / z.length;
    const short = z.filter((r) => r.nll > 0.5).length;
    for (const layers of layerSets.filter((l) => l.at(-1) === zLayer)) {
      for (const lambda of numbers(values.lambda!)) {
        const hp: MemitHparams = { ...hpZ, layers, mom2UpdateWeight: lambda };
        // MEMIT with this grid point's z* given: only the layer solves run.
        const zs = z.map((r) => r.target);
        const editor: Editor<MemitHparams> = { name: "memit", defaults: () => hp, edit: (m, reqs, h, ctx) => memitEdit(m, reqs, h, ctx, zs) };
        const r = await runProtocol(model, editor, cases, { mode: "batch", batchSize: cases.length, context, hparams: hp });
        const post = aggregateMetrics(r.cases.map((c) => c.post));
        const pre = aggregateMetrics(r.cases.map((c) => c.pre));
        rows.push({ steps, layers, lambda, zMeanNll: meanNll, zShort: short, pre, post });
        console.log(`| ${steps} | ${layers.join("–")} | ${lambda} | ${meanNll.toFixed(2)} | ${short} | ${pct(post.efficacy_score)} | ${pct(post.paraphrase_score)} | ${pct(post.neighborhood_score)} (${pct(pre.neighborhood_score)}) |`);
      }
    }
  }
}
if (values.out) await writeFileAtomic(values.out, JSON.stringify({ model: values.model, n: cases.length, rows }, null, 2));
if (values.choose) {
  const score = (r: Row, k: "efficacy_score" | "neighborhood_score", of: "pre" | "post" = "post") => r[of][k]?.mean ?? 0;
  const within = rows.filter((r) => score(r, "neighborhood_score") >= score(r, "neighborhood_score", "pre") - 0.1);
  if (within.length === 0) console.error("no grid point keeps neighbourhood within 10 points of the unedited model's: choosing by efficacy alone");
  const best = (within.length ? within : rows).reduce((a, r) => {
    const d = score(r, "efficacy_score") - score(a, "efficacy_score");
    return d > 0 || (d === 0 && score(r, "neighborhood_score") > score(a, "neighborhood_score")) ? r : a;
  });
  const shared = { layers: best.layers, v_num_grad_steps: best.steps };
  await writeFileAtomic(values.choose, JSON.stringify({ memit: { ...shared, mom2_update_weight: best.lambda }, alphaedit: shared }, null, 2) + "\n");
  console.log(`\nchosen: z* steps ${best.steps}, layers ${best.layers.join("–")}, λ ${best.lambda} → ${values.choose}`);
}
model.dispose();
