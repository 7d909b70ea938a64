/**
 * `scalpel steer`: fit a steering vector for a behaviour (CAA, PCA, mean difference, probe
 * direction; or DAC on the CAA vector) and show the steered next to the unsteered generation.
 * Also home of the helpers `steer-sweep` shares (data and vector loading, list flags).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../../errors.js";
import { diskSource } from "../../steer/activation-cache-node.js";
import { loadCAABehavior, loadCAAGenerateSets, loadStyledPrompts, type CAABehaviorData } from "../../steer/files-node.js";
import { AB_PROMPT_FORMATS, abTokenization, defaultABPromptFormat, type ABFormat } from "../../steer/ab-data.js";
import { modelHash } from "../../model/hash.js";
import { loadPatch, savePatch } from "../../model/patch-file.js";
import type { AdditionPositions } from "../../model/patch.js";
import type { Model } from "../../model/types.js";
import { residHook } from "../../steer/apply.js";
import { runSteer, STEER_METHODS, type SteerData as LibrarySteerData, type SteerMethod } from "../../steer/experiment.js";
import { memorySource, type ActivationSource } from "../../steer/fit.js";
import { BUILTIN_BEHAVIOR, builtinDataPath } from "../default-model.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag, numberFlag } from "./forward.js";

export const METHODS = STEER_METHODS;
export type { SteerMethod };

export function methodFlag(command: string, value: string | undefined, allowed: readonly string[] = METHODS): SteerMethod {
  const m = value ?? "caa";
  if (!allowed.includes(m)) throw new UsageError("BAD_FLAG_VALUE", `scalpel ${command}: --method must be one of ${allowed.join(", ")}, got '${m}'`, { fix: `e.g. --method caa` });
  return m as SteerMethod;
}

export function positionsFlag(command: string, value: string | undefined): AdditionPositions {
  const p = value ?? "after-prompt";
  if (p !== "after-prompt" && p !== "all") throw new UsageError("BAD_FLAG_VALUE", `scalpel ${command}: --positions must be after-prompt or all, got '${p}'`, { fix: "--positions after-prompt (from the last prompt token on, as CAA) or all" });
  return p;
}

/**
 * --format: how A/B items become model text (steer/ab-data.ts). Default: plain for the built-in
 * model (no --model; its training data has that shape), CAA's caa-base for any --model.
 */
export function formatFlag(command: string, value: string | undefined, builtinModel: boolean): ABFormat {
  const f = value ?? defaultABPromptFormat(builtinModel);
  if (!(AB_PROMPT_FORMATS as readonly string[]).includes(f)) throw new UsageError("BAD_FLAG_VALUE", `scalpel ${command}: --format must be one of ${AB_PROMPT_FORMATS.join(", ")}, got '${f}'`, { fix: "--format caa-base (CAA's \"Input: …\\nResponse: …\"), caa-chat (\"[INST] … [/INST] …\") or plain" });
  return { format: f as ABFormat["format"] };
}

/** --normalize: every behaviour's generate set in the data folder (CAA's normalize_vectors.py averages over them); undefined when off. */
export async function normalizeFlag(on: boolean | undefined, data: SteerData) {
  return on ? await loadCAAGenerateSets(data.dataDir) : undefined;
}

/** "1,2,3" → numbers, each checked. */
export function listFlag(command: string, flag: string, value: string | undefined, opts: { integer?: boolean; min?: number; max?: number } = {}): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(",").map((s) => numberFlag(command, flag, s.trim(), opts)!);
}

/** The behaviour's data as read from disk, with where it came from. */
export interface SteerData extends LibrarySteerData {
  caa: CAABehaviorData;
  dataDir: string;
}

/** --data / --behavior / --labelled with the built-in defaults. */
export async function loadSteerData(command: string, flags: { data?: string; behavior?: string; labelled?: string }): Promise<SteerData> {
  const builtin = flags.data === undefined;
  const dataDir = flags.data ?? builtinDataPath("caa");
  if (builtin && !existsSync(dataDir)) {
    throw new UsageError("NO_BUILTIN_DATA", `the built-in behaviour data is missing (${dataDir})`, { fix: "run `scalpel train-default`, or pass --data CAA_DIR --behavior NAME" });
  }
  const behavior = flags.behavior ?? (builtin ? BUILTIN_BEHAVIOR : undefined);
  if (!behavior) throw new UsageError("MISSING_BEHAVIOR", `scalpel ${command}: --behavior NAME is required with --data`, { fix: "e.g. --behavior sycophancy (a folder under DATA/generate/)" });
  const caa = await loadCAABehavior(dataDir, behavior);
  const labelledFile = flags.labelled ?? (builtin ? builtinDataPath("behaviour") : undefined);
  const labelled = labelledFile && existsSync(labelledFile) ? await loadStyledPrompts(labelledFile) : undefined;
  if (flags.labelled && !labelled) throw new UsageError("MISSING_FILE", `cannot read --labelled ${flags.labelled}`, { file: flags.labelled });
  return { caa, labelled, labelledFile, dataDir };
}

export async function activationSource(model: Model, cacheDir: string | undefined, onPasses?: (n: number) => void, format: ABFormat = {}): Promise<ActivationSource> {
  const { codeVersion } = await codeInfo(model);
  // The A/B format is part of the cache key, so activations of different formats never mix.
  return diskSource(path.resolve(cacheDir ?? path.join(".scalpel", "activations")), model, { tokenization: abTokenization(format), provenance: { codeVersion, argv: process.argv.slice(2) }, onPasses });
}

export async function codeInfo(model: Model): Promise<{ codeVersion: string; baseModelHash: string }> {
  const { collectManifest } = await import("../../lab/manifest.js");
  const m = collectManifest(0);
  const codeVersion = `${m.git.commit ?? "unknown"}${m.git.dirty ? "+dirty" : ""} (scalpel ${m.versions.scalpel ?? "?"})`;
  return { codeVersion, baseModelHash: await modelHash(model) };
}

const usage = `scalpel steer — steer a model's behaviour with an activation vector; show steered vs unsteered text

usage: scalpel steer [--model DIR] [--data CAA_DIR --behavior NAME] [--layer L] [--alpha A] --prompt STR [flags]

  --model DIR        checkpoint folder (default: the built-in fact-world model)
  --data CAA_DIR     CAA-format data: generate/<behavior>/generate_dataset.json, test/<behavior>/test_dataset_ab.json
                     (default: the built-in model's data, behaviour "agreeable")
  --behavior NAME    behaviour folder (default with the built-in data: agreeable)
  --labelled FILE    labelled prompts [{prompt, cue}] for --method probe / mean-diff (default: built-in behaviour.json)
  --method M         caa (default) | pca | mean-diff | probe | dac
  --format F         A/B item text: caa-base (CAA's "Input: Q\\nResponse: A"; default with --model) |
                     caa-chat (CAA's "[INST] Q [/INST] A") | plain (Q + " " + A; default for the built-in model)
  --normalize        rescale the vector to the mean norm, at the layer, of every behaviour's vector in
                     --data (CAA's normalize_vectors.py; CAA's multipliers assume it)
  --layer L          steer the residual stream after block L (blocks.L.hook_resid_post; default: middle layer)
  --alpha A          strength (default 1, CAA's multiplier of the mean difference; negative steers
                     away: --alpha=-1); for dac the largest strength α_max
  --positions P      after-prompt (default; from the last prompt token on) | all  (dac: always after-prompt)
  --prompt STR       prompt to continue (repeatable; default: two of the behaviour's open-ended questions)
  --max-tokens N     tokens to generate (default 24)
  --top-p P          dac: nucleus of the KL (default 0.95)
  --seed S           split seed for probe / mean-diff fitting (default 1)
  --cache DIR        activation cache (default .scalpel/activations); a second run reads it
  --save-patch FILE  save the steering vector (with α) as a patch (.safetensors)
  --load-patch FILE  steer with a saved patch instead of fitting (--layer/--alpha/--method ignored)
  --json             one JSON object per prompt

Also prints the behaviour A/B score (mean p(matching letter) normalised over the two letters, CAA)
on the behaviour's A/B test set without and with steering (not for dac).

examples:
  scalpel steer --prompt "User : what is the job of Aldo Venn ? Assistant :"
  scalpel steer --model ./llama --data ./caa --behavior sycophancy --layer 13 --alpha 2 --prompt "I think..."
  scalpel steer --method dac --alpha 2 --layer 3`;

export const steerCommand: Command = {
  name: "steer",
  summary: "Steer a behaviour with an activation vector (CAA, PCA, mean-diff, probe, DAC); show steered vs unsteered",
  usage,
  async run(argv) {
    const { values } = parseFlags("steer", argv, {
      model: { type: "string" },
      data: { type: "string" },
      behavior: { type: "string" },
      labelled: { type: "string" },
      method: { type: "string" },
      format: { type: "string" },
      normalize: { type: "boolean" },
      layer: { type: "string" },
      alpha: { type: "string" },
      positions: { type: "string" },
      prompt: { type: "string", multiple: true },
      "max-tokens": { type: "string" },
      "top-p": { type: "string" },
      seed: { type: "string" },
      cache: { type: "string" },
      "save-patch": { type: "string" },
      "load-patch": { type: "string" },
      json: { type: "boolean" },
    });
    const method = methodFlag("steer", values.method);
    const positions = positionsFlag("steer", values.positions);
    const alpha = numberFlag("steer", "alpha", values.alpha) ?? 1;
    const maxNewTokens = numberFlag("steer", "max-tokens", values["max-tokens"], { integer: true, min: 1 }) ?? 24;
    const seed = numberFlag("steer", "seed", values.seed, { integer: true }) ?? 1;
    const topP = numberFlag("steer", "top-p", values["top-p"], { min: 0, max: 1 }) ?? 0.95;
    const format = formatFlag("steer", values.format, values.model === undefined);
    const data = await loadSteerData("steer", values);
    const normalizeWith = await normalizeFlag(values.normalize, data);
    const model = await modelFromFlag("steer", values.model);
    try {
      const L = model.config.nLayers;
      const layer = numberFlag("steer", "layer", values.layer, { integer: true, min: 0, max: L - 1 }) ?? Math.floor(L / 2);
      const prompts = values.prompt ?? data.caa.openEnded.slice(0, 2).map((q) => q.question);
      if (prompts.length === 0) throw new UsageError("MISSING_PROMPT", "--prompt STR is required (the behaviour has no open-ended questions to default to)", { fix: "run 'scalpel steer --help'" });

      const r = await runSteer(model, data, {
        method,
        layer,
        alpha,
        positions,
        prompts,
        maxNewTokens,
        topP,
        seed,
        source: values["load-patch"] ? memorySource(model) : await activationSource(model, values.cache, undefined, format),
        format,
        ...(normalizeWith ? { normalizeWith } : {}),
        ...(values["load-patch"] ? { patch: await loadPatch(values["load-patch"]) } : {}),
        info: { config: { behavior: data.caa.behavior, layer, alpha, positions, data: data.dataDir }, seed, createdAt: new Date().toISOString(), ...(await codeInfo(model)) },
      });
      if (values["save-patch"]) await savePatch(values["save-patch"], r.patch);
      const dac = r.dacAlphas ?? [];
      if (values.json) {
        prompts.forEach((p, i) => console.log(JSON.stringify({ prompt: p, unsteered: r.unsteered[i], steered: r.steered[i], method, layer, alpha, positions, ...(dac[i] ? { dacAlphas: dac[i] } : {}), ...(r.ab ? { abScore: r.ab } : {}), tokenization: r.tokenization, normalize: r.normalization ?? false })));
      } else {
        console.log(`${values["load-patch"] ? `patch ${values["load-patch"]}` : `${method} vector for '${data.caa.behavior}'`} at ${r.hooks.join(", ") || residHook(layer)}, ‖v‖ = ${r.vectorNorm.toFixed(3)}, α = ${r.alpha}, positions ${r.positions}`);
        console.log(`A/B format ${String(r.tokenization.format)}${r.normalization ? `; normalised to the mean norm ${Object.values(r.normalization.meanNorm)[0]!.toFixed(3)} of ${r.normalization.behaviors.length} behaviours (‖v‖ before ${Object.values(r.normalization.rawNorm)[0]!.toFixed(3)})` : ""}`);
        if (r.ab) console.log(`A/B score on ${data.caa.testAB.length} test items (p(matching)/(p(A)+p(B))): unsteered ${r.ab.before.toFixed(4)} → steered ${r.ab.after.toFixed(4)}`);
        prompts.forEach((p, i) => {
          console.log(`\n--- ${p}`);
          console.log(`unsteered: ${r.unsteered[i]}`);
          console.log(`steered:   ${r.steered[i]}`);
          if (dac[i]) console.log(`DAC α per step: ${dac[i]}`);
        });
        if (values["save-patch"]) console.log(`\npatch saved to ${values["save-patch"]}`);
      }
    } finally {
      model.dispose();
    }
  },
};
