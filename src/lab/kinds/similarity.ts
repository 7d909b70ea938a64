/**
 * The `similarity` experiment kind: how alike are the hidden states of different editing tasks?
 * The lifelong-editing analysis (why an editor that handles zsRE questions misroutes WISE's
 * hallucination passages): the last-token activation of every case's edit prompt at one hook point,
 * cosine similarity within each task and between tasks, and the states projected to 2-D.
 *
 *   states      the prompts of each set (edit datasets, first n cases) → last-token states at the
 *               hook (analysis/similarity.ts lastTokenStates)
 *   similarity  pairwise cosines within each set and between each pair: distribution, mean, std
 *               and a bootstrap CI of the mean (similarityStats)
 *   projection  t-SNE (seeded; analysis/tsne.ts) and PCA of all states together, and the report
 *               section: the two scatter plots, the cosine histograms and box plots, the table
 *
 * Summary metrics: `within.<set>.mean|std|ci_low|ci_high`, `between.<a>~<b>.…`, `separation`
 * (mean within minus mean between), `tsne.kl` and `pca.explained.1|2`.
 */
import { loadEditCases, EDIT_FORMATS } from "../../data/editing/load.js";
import { s, type Infer } from "../schema/schema.js";
import { editDataFile, fingerprint, modelDir, modelField, stageModel } from "./model-input.js";
import type { ExperimentKind } from "./types.js";

const setSchema = s.object({
  name: s.string().describeAs("the set's name in tables and plots"),
  data: s.nullable(s.string()).describeAs("edit dataset file; null = the built-in model's export in `format`"),
  format: s.nullable(s.enum(EDIT_FORMATS)).describeAs("dataset format; null = recognised from the records"),
  n: s.int({ min: 2 }).default(100).describeAs("the first n cases"),
});

export const similaritySchema = s.object({
  model: modelField,
  sets: s.array(setSchema, { minItems: 1 }).describeAs("the task sets compared (e.g. zsRE and WISE hallucination)"),
  text: s.enum(["prompt", "prompt+target"] as const).default("prompt").describeAs("what is encoded: the edit prompt (subject filled in), or the prompt followed by the new target"),
  hook: s.nullable(s.string()).describeAs("hook point whose last-token activation is compared; null = the last block's hook_resid_post"),
  perplexity: s.number({ min: 1 }).default(30).describeAs("t-SNE perplexity (must be below the number of states)"),
  iterations: s.int({ min: 250 }).default(1000).describeAs("t-SNE iterations (the first 250 with early exaggeration)"),
  n_resamples: s.int({ min: 100 }).default(2000).describeAs("bootstrap resamples of each mean's CI"),
});

export type SimilarityConfig = Infer<typeof similaritySchema>;

interface StatesOutput {
  hook: string;
  sets: { name: string; prompts: string[]; states: number[][] }[];
}

const round = (x: ArrayLike<number>) => Array.from(x, (v) => Math.round(v * 1e6) / 1e6);

export const similarityKind: ExperimentKind<SimilarityConfig> = {
  name: "similarity",
  version: "1",
  description: "Hidden-state similarity within and between editing tasks: cosine distributions with CIs, t-SNE and PCA pictures.",
  schema: similaritySchema,
  objective: { metric: "separation", direction: "maximize" },
  metrics: {
    separation: { definition: "mean over sets of the within-set mean cosine minus the mean over set pairs of the between-set mean cosine (last-token states at the hook)", version: 1 },
  },
  stages: [
    {
      name: "states",
      after: [],
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), sets: c.sets.map((x) => ({ ...x, data: fingerprint(editDataFile(x.data, x.format)) })), text: c.text, hook: c.hook }),
      run: async (ctx): Promise<StatesOutput> => {
        const c = ctx.config;
        const names = c.sets.map((x) => x.name);
        const dup = names.find((n, i) => names.indexOf(n) !== i);
        if (dup !== undefined) throw new RangeError(`config.sets: two sets are named '${dup}'; give each a different name`);
        const model = await stageModel(ctx, c.model);
        const hook = c.hook ?? `blocks.${model.config.nLayers - 1}.hook_resid_post`;
        const [{ lastTokenStates }, { rewritePrompt }] = await Promise.all([import("../../analysis/similarity.js"), import("../../eval/editing/score.js")]);
        const sets: StatesOutput["sets"] = [];
        for (const [i, set] of c.sets.entries()) {
          const cases = (await loadEditCases(editDataFile(set.data, set.format), { format: set.format ?? undefined })).slice(0, set.n);
          const prompts = cases.map((x) => (c.text === "prompt" ? rewritePrompt(x) : `${rewritePrompt(x)} ${x.request.targetNew}`));
          const states = await lastTokenStates(model, prompts, hook);
          sets.push({ name: set.name, prompts, states: states.map(round) });
          ctx.progress(i + 1, c.sets.length);
        }
        return { hook, sets };
      },
    },
    {
      name: "similarity",
      after: ["states"],
      seeded: true, // the bootstrap
      uses: (c) => ({ n_resamples: c.n_resamples }),
      run: async (ctx) => {
        const { similarityStats } = await import("../../analysis/similarity.js");
        const { sets } = ctx.inputs.states as StatesOutput;
        const stats = similarityStats(Object.fromEntries(sets.map((x) => [x.name, x.states])), { seed: ctx.seed, nResamples: ctx.config.n_resamples });
        const out: Record<string, number> = {};
        const put = (key: string, v: { mean: number; std: number; ci?: { low: number; high: number } }) => {
          out[`${key}.mean`] = v.mean;
          out[`${key}.std`] = v.std;
          if (v.ci) Object.assign(out, { [`${key}.ci_low`]: v.ci.low, [`${key}.ci_high`]: v.ci.high });
        };
        for (const [name, v] of Object.entries(stats.within)) put(`within.${name}`, v);
        for (const b of stats.between) put(`between.${b.a}~${b.b}`, b.summary);
        const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;
        const within = mean(Object.values(stats.within).map((v) => v.mean));
        if (stats.between.length) out.separation = within - mean(stats.between.map((b) => b.summary.mean));
        for (const [k, v] of Object.entries(out)) if (Number.isFinite(v)) ctx.metric(k, v);
        return { metrics: out, stats };
      },
    },
    {
      name: "projection",
      after: ["states", "similarity"],
      seeded: true, // t-SNE's initialisation
      uses: (c) => ({ perplexity: c.perplexity, iterations: c.iterations }),
      run: async (ctx) => {
        const c = ctx.config;
        const [{ tsne }, { pca }, charts, { writeReportSection }] = await Promise.all([
          import("../../analysis/tsne.js"),
          import("../../analysis/pca.js"),
          import("../report/projection-chart.js"),
          import("../report/section.js"),
        ]);
        const { hook, sets } = ctx.inputs.states as StatesOutput;
        const { stats } = ctx.inputs.similarity as { stats: import("../../analysis/similarity.js").SimilarityStats };
        const rows = sets.flatMap((x) => x.states);
        const groups = sets.flatMap((x) => x.states.map(() => x.name));
        const labels = sets.flatMap((x) => x.prompts);
        if (c.perplexity >= rows.length) throw new RangeError(`config.perplexity (${c.perplexity}) must be below the number of states (${rows.length}); lower it or raise the sets' n`);
        const t = tsne(rows, { perplexity: c.perplexity, maxIter: c.iterations, seed: ctx.seed });
        const p = pca(rows, 2);
        ctx.metric("tsne.kl", t.kl);
        p.explainedVarianceRatio.forEach((r, i) => ctx.metric(`pca.explained.${i + 1}`, r));
        const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "");
        await writeReportSection(ctx.dir, {
          tables: [
            {
              title: `Cosine similarity of last-token states at ${hook}`,
              header: ["pairs", "n", "mean", "std", "95% CI"],
              rows: charts.similaritySets(stats).map(({ set, summary }) => [set, String(summary.n), fmt(summary.mean), fmt(summary.std), summary.ci ? `[${fmt(summary.ci.low)}, ${fmt(summary.ci.high)}]` : ""]),
              note: "Bootstrap CIs resample the pairs as if independent, so they are narrower than a CI over prompts.",
            },
          ],
          figures: [
            { title: `t-SNE of the states (perplexity ${c.perplexity}, KL ${t.kl.toFixed(3)})`, spec: charts.projectionSpec(t.embedding, groups, { method: `t-SNE (perplexity ${c.perplexity})`, labels }) },
            { title: "PCA of the states", spec: charts.projectionSpec(p.projection, groups, { method: "PCA", labels, explainedVarianceRatio: p.explainedVarianceRatio }) },
            { title: "Cosine similarity distributions", spec: charts.cosineHistogramSpec(stats) },
            { title: "Cosine similarity box plots", spec: charts.cosineBoxSpec(stats) },
          ],
        });
        return { hook, tsne: { kl: t.kl, iterations: t.iterations, embedding: t.embedding.map(round) }, pca: { explained_variance_ratio: p.explainedVarianceRatio, projection: p.projection.map(round) }, groups };
      },
    },
  ],
};
