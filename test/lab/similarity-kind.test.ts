/**
 * The `similarity` kind end to end on the built-in model: two task sets → states → within/between
 * cosine statistics → t-SNE and PCA, with the table and plots in the run's report.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseExperiment } from "../../src/lab/config.js";
import { startRun } from "../../src/lab/experiment.js";
import { renderReport } from "../../src/lab/report/render.js";
import { reportData } from "../../src/lab/store/report-data.js";
import { openStore } from "../../src/lab/store/store.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "scalpel-similarity-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("zsRE vs hallucination: within/between statistics, t-SNE and PCA into the report", async () => {
  const exp = parseExperiment({
    kind: "similarity",
    name: "sim",
    config: {
      sets: [
        { name: "zsre", format: "zsre", n: 12 },
        { name: "hallucination", format: "wise-hallucination", n: 12 },
      ],
      perplexity: 5,
      iterations: 300,
      n_resamples: 200,
    },
  });
  const store = openStore(join(dir, "store"));
  try {
    const run = await startRun(store, exp);
    const m = run.metrics;
    for (const k of ["within.zsre.mean", "within.hallucination.mean", "between.zsre~hallucination.mean", "separation", "tsne.kl", "pca.explained.1"]) assert.ok(Number.isFinite(m[k]), `${k} = ${m[k]}`);
    assert.ok(m["within.zsre.ci_low"]! <= m["within.zsre.mean"]! && m["within.zsre.mean"]! <= m["within.zsre.ci_high"]!);
    // The two formats' prompts differ in kind (questions vs passages): each set is more alike within than across.
    assert.ok(m["within.zsre.mean"]! > m["between.zsre~hallucination.mean"]!, JSON.stringify(m));
    assert.ok(Math.abs(m.separation! - ((m["within.zsre.mean"]! + m["within.hallucination.mean"]!) / 2 - m["between.zsre~hallucination.mean"]!)) < 1e-12);
    const { html } = await renderReport(reportData(store, run.runId));
    assert.match(html, /Cosine similarity of last-token states at blocks\.3\.hook_resid_post/);
    assert.match(html, /t-SNE of the states/);
    assert.match(html, /PCA of the states/);
  } finally {
    store.close();
  }
});

test("the similarity kind refuses duplicate set names and a perplexity above the number of states", async () => {
  const store = openStore(join(dir, "store-bad"));
  try {
    const sets = [{ name: "a", format: "zsre", n: 3 }, { name: "a", format: "zsre", n: 3 }];
    await assert.rejects(startRun(store, parseExperiment({ kind: "similarity", config: { sets } })), /two sets are named 'a'/);
    const one = [{ name: "a", format: "zsre", n: 3 }, { name: "b", format: "wise-temporal", n: 3 }];
    await assert.rejects(startRun(store, parseExperiment({ kind: "similarity", config: { sets: one, perplexity: 30 } })), /perplexity \(30\) must be below the number of states \(6\)/);
  } finally {
    store.close();
  }
});
