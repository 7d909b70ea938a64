/**
 * `scalpel steer-sweep`: the steering experiment end to end, without peeking at test —
 *   1. split the behaviour's generate set into train / validation by the seed (the A/B test file
 *      is the test set), and the labelled prompts into train / val / test;
 *   2. fit one vector per layer on train (activations through the disk cache);
 *   3. score every (layer, α) on validation (grid), or search them with TPE + median pruning;
 *   4. evaluate the chosen (layer, α) once on test (A/B score; optionally open-ended behaviour and
 *      GSM8K-style accuracy), next to α = 0;
 *   5. probes per layer (accuracy and AUC on train / val / test);
 *   6. write results.json (config, seed, code version, every number), sweep.md (the α table),
 *      sweep.svg + sweep.vl.json (metric vs α per layer), and the chosen vector as a patch.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../../errors.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { loadGsm8k } from "../../steer/files-node.js";
import { renderSvg } from "../../lab/report/charts.js";
import { savePatch } from "../../model/patch-file.js";
import type { Model } from "../../model/types.js";
import { runSteerSweep } from "../../steer/experiment.js";
import { monotone, sweepPlotSpec, sweepTable, type SweepCell } from "../../steer/sweep.js";
import { builtinDataPath } from "../default-model.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag, numberFlag } from "./forward.js";
import { activationSource, codeInfo, formatFlag, listFlag, loadSteerData, methodFlag, normalizeFlag, positionsFlag, type SteerMethod } from "./steer.js";

const usage = `scalpel steer-sweep — fit steering vectors per layer, sweep α on validation, evaluate once on test

usage: scalpel steer-sweep [--model DIR] [--data CAA_DIR --behavior NAME] [flags]

  --model DIR        checkpoint folder (default: the built-in fact-world model)
  --data CAA_DIR     CAA-format data (default: the built-in model's, behaviour "agreeable")
  --behavior NAME    behaviour folder
  --labelled FILE    labelled prompts [{prompt, cue}] for probes (default: built-in behaviour.json)
  --method M         caa (default) | pca | mean-diff | probe
  --format F         A/B item text: caa-base (CAA's "Input: Q\\nResponse: A"; default with --model) |
                     caa-chat (CAA's "[INST] Q [/INST] A") | plain (Q + " " + A; default for the built-in model)
  --normalize        rescale each layer's vector to the mean norm, at that layer, of every behaviour's
                     vector in --data (CAA's normalize_vectors.py; CAA's multipliers assume it)
  --layers L,L,…     layers to steer (default: all)
  --alphas=A,A,…     strengths of the grid, CAA's multipliers of the mean difference (default
                     -2,-1,-0.5,-0.25,0,0.25,0.5,1,2; write --alphas=-2,0,2 when the list starts
                     with a minus sign)
  --positions P      after-prompt (default) | all
  --search S         grid (default) | tpe (TPE over layer × α with median pruning)
  --trials N         tpe: trials (default 30)
  --val-fraction F   share of the generate set held out for validation (default 0.25)
  --seed S           split and search seed (default 1)
  --direction D      towards (default: choose α maximising the A/B score) | away (minimising)
  --open-ended N     also measure open-ended behaviour (first word = --marker) on N test questions
  --marker WORD      behaviour marker word for --open-ended (default Gladly, the fact world's agreeable opener)
  --gsm8k N          also measure GSM8K-style accuracy on N problems (default data: built-in arithmetic/test.jsonl)
  --gsm8k-file FILE  GSM8K-format JSON lines
  --no-probes        skip the per-layer probes
  --cache DIR        activation cache (default .scalpel/activations)
  --out DIR          where results go (default .scalpel/steer/<behavior>-<method>)
  --json             print results.json instead of the tables

examples:
  scalpel steer-sweep
  scalpel steer-sweep --model ./llama --data ./caa --behavior sycophancy --layers 10,13,16 --alphas=-2,-1,0,1,2`;

export const steerSweepCommand: Command = {
  name: "steer-sweep",
  summary: "Sweep steering strength × layer on validation, pick the best, evaluate once on test; table, plot, probes",
  usage,
  async run(argv) {
    const { values } = parseFlags("steer-sweep", argv, {
      model: { type: "string" },
      data: { type: "string" },
      behavior: { type: "string" },
      labelled: { type: "string" },
      method: { type: "string" },
      format: { type: "string" },
      normalize: { type: "boolean" },
      layers: { type: "string" },
      alphas: { type: "string" },
      positions: { type: "string" },
      search: { type: "string" },
      trials: { type: "string" },
      "val-fraction": { type: "string" },
      seed: { type: "string" },
      direction: { type: "string" },
      "open-ended": { type: "string" },
      marker: { type: "string" },
      gsm8k: { type: "string" },
      "gsm8k-file": { type: "string" },
      "no-probes": { type: "boolean" },
      cache: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
    });
    const cmd = "steer-sweep";
    const method = methodFlag(cmd, values.method, ["caa", "pca", "mean-diff", "probe"]) as Exclude<SteerMethod, "dac">;
    const positions = positionsFlag(cmd, values.positions);
    const alphas = listFlag(cmd, "alphas", values.alphas) ?? [-2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2];
    const search = values.search ?? "grid";
    if (search !== "grid" && search !== "tpe") throw new UsageError("BAD_FLAG_VALUE", `--search must be grid or tpe, got '${search}'`);
    const trials = numberFlag(cmd, "trials", values.trials, { integer: true, min: 1 }) ?? 30;
    const valFraction = numberFlag(cmd, "val-fraction", values["val-fraction"], { min: 0.01, max: 0.99 }) ?? 0.25;
    const seed = numberFlag(cmd, "seed", values.seed, { integer: true }) ?? 1;
    const dirFlag = values.direction ?? "towards";
    if (dirFlag !== "towards" && dirFlag !== "away") throw new UsageError("BAD_FLAG_VALUE", `--direction must be towards or away, got '${dirFlag}'`);
    const direction = dirFlag === "towards" ? "maximize" : "minimize";
    const nOpen = numberFlag(cmd, "open-ended", values["open-ended"], { integer: true, min: 0 }) ?? 0;
    const nGsm = numberFlag(cmd, "gsm8k", values.gsm8k, { integer: true, min: 0 }) ?? 0;
    const format = formatFlag(cmd, values.format, values.model === undefined);
    const data = await loadSteerData(cmd, values);
    const normalizeWith = await normalizeFlag(values.normalize, data);
    const gsmFile = values["gsm8k-file"] ?? builtinDataPath("arithmeticTest");
    if (nGsm > 0 && !existsSync(gsmFile)) throw new UsageError("MISSING_FILE", `no GSM8K file at ${gsmFile}`, { file: gsmFile, fix: "pass --gsm8k-file FILE" });
    const outDir = path.resolve(values.out ?? path.join(".scalpel", "steer", `${data.caa.behavior}-${method}`));
    const log = (s: string) => {
      if (!values.json) console.log(s);
    };

    const model = await modelFromFlag(cmd, values.model);
    try {
      const L = model.config.nLayers;
      const layers = listFlag(cmd, "layers", values.layers, { integer: true, min: 0, max: L - 1 }) ?? Array.from({ length: L }, (_, i) => i);
      let passes = 0;
      const source = await activationSource(model, values.cache, (n) => (passes += n), format);
      const code = await codeInfo(model);
      const r = await runSteerSweep(model, data, {
        method,
        layers,
        alphas,
        positions,
        search,
        trials,
        valFraction,
        seed,
        direction,
        source,
        ...(nOpen > 0 ? { openEnded: { n: nOpen, marker: values.marker ?? "Gladly" } } : {}),
        ...(nGsm > 0 ? { gsm8k: (await loadGsm8k(gsmFile)).slice(0, nGsm) } : {}),
        probes: !values["no-probes"],
        format,
        ...(normalizeWith ? { normalizeWith } : {}),
        info: { config: { behavior: data.caa.behavior, positions, data: data.dataDir }, seed, createdAt: new Date().toISOString(), ...code },
      });
      const { split, validation: cells, chosen: best, test, patch } = r;
      log(`A/B format ${String(r.tokenization.format)}${r.normalization ? `; vectors normalised across ${r.normalization.behaviors.length} behaviours (${r.normalization.behaviors.join(", ")})` : ""}`);
      log(`${data.caa.behavior}: ${r.counts.train} train / ${r.counts.val} validation pairs (seed ${seed}), ${r.counts.test} test items; method ${method}, positions ${positions}`);
      log(`fitted ${layers.length} vectors (${passes} forward passes; 0 means the activation cache answered)`);
      log(`\nA/B score on validation (${search}):\n${search === "grid" ? sweepTable(cells) : cells.map((c) => `layer ${c.layer}, α ${c.alpha.toFixed(3)}: ${c.value.toFixed(4)}`).join("\n")}`);
      if (search === "grid") {
        const mono = layers.map((l) => `layer ${l}: ${monotone(cells, l, true) ? "monotone ↑" : monotone(cells, l, false) ? "monotone ↓" : "not monotone"}`);
        log(`monotonicity in α: ${mono.join("; ")}`);
      }
      log(`chosen on validation: layer ${best.layer}, α ${best.alpha} (score ${best.value.toFixed(4)})`);
      log(`test A/B score: unsteered ${test.unsteered.toFixed(4)} → steered ${test.steered.toFixed(4)}`);

      const extra: Record<string, unknown> = {};
      if (r.openEnded) {
        extra.openEnded = r.openEnded;
        log(`open-ended behaviour (first word "${r.openEnded.marker}") on ${r.openEnded.n} questions: ${r.openEnded.unsteered.toFixed(3)} → ${r.openEnded.steered.toFixed(3)}`);
      }
      if (r.gsm8k) {
        extra.gsm8k = { ...r.gsm8k, file: gsmFile };
        log(`GSM8K-style accuracy on ${r.gsm8k.n} problems: ${r.gsm8k.unsteered.toFixed(3)} → ${r.gsm8k.steered.toFixed(3)}`);
      }
      let probes: unknown;
      if (r.probes) {
        const { split: psplit, reports, best: bestProbe } = r.probes;
        probes = reports.map((p) => ({ layer: p.layer, train: p.train, val: p.val, test: p.test }));
        log(`\nprobes (logistic regression at the last prompt token; ${psplit.train.length}/${psplit.val.length}/${psplit.test.length} prompts):`);
        log(`| layer | train acc | val acc | val AUC | test acc | test AUC |\n|---|---|---|---|---|---|`);
        for (const p of reports) log(`| ${p.layer} | ${p.train.accuracy.toFixed(3)} | ${p.val.accuracy.toFixed(3)} | ${p.val.auc.toFixed(3)} | ${p.test.accuracy.toFixed(3)} | ${p.test.auc.toFixed(3)} |`);
        log(`best probe layer on validation: ${bestProbe.layer}, test accuracy ${bestProbe.test.accuracy.toFixed(3)}, AUC ${bestProbe.test.auc.toFixed(3)}`);
        extra.bestProbe = { layer: bestProbe.layer, test: bestProbe.test };
      }
      const searchTrials = r.searchTrials;

      const files = await writeArtifacts(outDir, model, {
        config: { behavior: data.caa.behavior, data: data.dataDir, method, layers, alphas, positions, search, trials: search === "tpe" ? trials : undefined, valFraction, direction: dirFlag, seed, format: format.format, normalize: !!values.normalize },
        tokenization: r.tokenization,
        normalization: r.normalization ?? null,
        seed,
        code: code.codeVersion,
        baseModelHash: code.baseModelHash,
        splits: { train: split.train, val: split.val, test: `${data.caa.files.testAB} (all ${r.counts.test})` },
        validation: cells,
        searchTrials,
        chosen: best,
        test,
        ...extra,
        probes,
      }, cells, patch);
      if (values.json) console.log(JSON.stringify(JSON.parse(await import("node:fs/promises").then((f) => f.readFile(files.results, "utf8")))));
      else log(`\nwrote ${files.results}, ${files.table}, ${files.svg}, ${files.patch}`);
    } finally {
      model.dispose();
    }
  },
};

async function writeArtifacts(dir: string, _model: Model, results: Record<string, unknown>, cells: SweepCell[], patch: Parameters<typeof savePatch>[1]) {
  const files = { results: path.join(dir, "results.json"), table: path.join(dir, "sweep.md"), svg: path.join(dir, "sweep.svg"), spec: path.join(dir, "sweep.vl.json"), patch: path.join(dir, "chosen.patch.safetensors") };
  await writeFileAtomic(files.results, JSON.stringify(results, null, 1));
  await writeFileAtomic(files.table, `# A/B score on validation\n\n${sweepTable(cells)}\n`);
  const spec = sweepPlotSpec(cells);
  await writeFileAtomic(files.spec, JSON.stringify(spec, null, 1));
  // renderSvg drops the namespace for inline HTML; a standalone .svg file needs it back.
  await writeFileAtomic(files.svg, (await renderSvg(spec)).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" '));
  await savePatch(files.patch, patch);
  return files;
}
