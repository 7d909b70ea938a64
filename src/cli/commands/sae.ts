/**
 * `scalpel sae train | eval`: train a sparse autoencoder or transcoder on a model's activations
 * (sae/train.ts) and save it in SAELens' format (sae/formats-node.ts), or measure a saved one
 * (SAELens folder or Gemma Scope params.npz): reconstruction MSE, explained variance, L0, dead
 * features, and the CE loss with the reconstruction spliced in (sae/metrics.ts).
 */
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { UsageError } from "../../errors.js";
import type { Model } from "../../model/types.js";
import type { Dictionary } from "../../sae/dictionary.js";
import { ModelActivations } from "../../sae/activation-store.js";
import { loadGemmaScopeNpz, loadSaeLens, saveSaeLens } from "../../sae/formats-node.js";
import { loadDictionary, saveDictionary } from "../../sae/dictionary-file-node.js";

/** Where `sae train` keeps a dictionary SAELens cannot hold (a TopK transcoder), inside --out. */
const DICTIONARY_FILE = "dictionary.safetensors";
import { reconstructionMetrics, single, spliceMetrics, type ReconstructionMetrics, type SpliceMetrics } from "../../sae/metrics.js";
import { tokenRows } from "../../sae/token-rows.js";
import { trainDictionary } from "../../sae/train.js";
import { didYouMean } from "../../util/closest.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag, numberFlag } from "./forward.js";
import { listFlag } from "./steer.js";
import { subcommand } from "./subcommands.js";

const usage = `scalpel sae — sparse autoencoders and transcoders: train one on a model's activations, or evaluate one

usage: scalpel sae train --out DIR [--kind sae|transcoder] [--layer L] [--width N] [flags]
       scalpel sae eval --dict DIR|FILE.npz|FILE.safetensors [--hook-in NAME --hook-out NAME --kind K] [flags]

sae train — train on the built-in corpus (or --text), save in SAELens format (cfg.json + sae_weights.safetensors)
  --model DIR        checkpoint folder (default: the built-in fact-world model)
  --kind K           sae (default; reconstructs one hook point) | transcoder (maps hook-in to hook-out)
  --layer L          block whose activations are used (default: the middle layer)
  --hook-in NAME     input hook point (default: sae blocks.L.hook_resid_post; transcoder blocks.L.ln2.hook_normalized)
  --hook-out NAME    transcoder output hook point (default blocks.L.hook_mlp_out)
  --width N          dictionary features d_sae (default 4 × d_model)
  --activation A     topk (default) | relu
  --k K              active features per token for topk (default 32)
  --l1 X             L1 coefficient for relu (default 5)
  --steps N          training steps (default 1000)
  --batch-tokens N   activations per step (default 1024)
  --buffer-tokens N  shuffle buffer size (default max(16384, 4 × batch-tokens))
  --lr X             peak learning rate (default 1e-3)
  --warmup N         linear learning-rate warmup steps (default 0)
  --eval-every N     validation MSE every N steps, for early stopping (default steps/10)
  --patience N       stop after N validations without improvement (default: never)
  --resample-at LIST steps at which dead features are resampled, e.g. 500,1000 (default none)
  --seed N           initialisation and shuffle seed (default 0)
  --out DIR          where the SAELens folder goes
  --text FILE        training texts, one document per line (default: the built-in fact-world corpus)
  --context N        tokens per row, BOS included (default min(128, model context))
  --eval-rows N      rows held out for validation and again for the final metrics (default 64)
  --json             print the metrics as one JSON object

sae eval — the same metrics for a saved dictionary, on the held-out rows (the corpus' last --eval-rows)
  --model DIR        checkpoint folder (default: the built-in fact-world model)
  --dict PATH        a SAELens folder, or a Gemma Scope params.npz file
  --hook-in NAME     for .npz: the hook point the dictionary reads
  --hook-out NAME    for an .npz transcoder: the hook point it writes
  --kind K           for .npz: sae (default) | transcoder
  --text FILE / --context N / --eval-rows N / --json   as for train

Metrics: MSE (mean over tokens of ‖ŷ − y‖²), explained variance (1 − SSE / total variance), L0
(mean active features per token), dead fraction (features that never fired on the rows), CE loss
recovered ((CE_zero-ablated − CE_spliced) / (CE_zero-ablated − CE_clean)) and ΔCE (CE_spliced − CE_clean).

examples:
  scalpel sae train --layer 2 --width 768 --activation topk --k 32 --steps 2000 --out runs/sae-l2
  scalpel sae train --kind transcoder --layer 1 --activation relu --l1 5 --out runs/tc-l1
  scalpel sae eval --dict runs/sae-l2
  scalpel sae eval --model ./gemma --dict params.npz --hook-in blocks.12.hook_resid_post`;

const shared = {
  model: { type: "string" },
  kind: { type: "string" },
  "hook-in": { type: "string" },
  "hook-out": { type: "string" },
  text: { type: "string" },
  context: { type: "string" },
  "eval-rows": { type: "string" },
  json: { type: "boolean" },
} as const;

type Num = (flag: string, value: string | undefined, opts?: { integer?: boolean; min?: number; max?: number }) => number | undefined;
const num: Num = (flag, value, opts) => numberFlag("sae", flag, value, opts);

function kindFlag(cmd: string, value: string | undefined): "sae" | "transcoder" {
  const k = value ?? "sae";
  if (k !== "sae" && k !== "transcoder") throw new UsageError("BAD_FLAG_VALUE", `scalpel ${cmd}: --kind must be sae or transcoder, got '${k}'`, { fix: "e.g. --kind sae" });
  return k;
}

function checkHook(cmd: string, model: Model, flag: string, hook: string): void {
  const names = model.hookNames();
  if (!names.includes(hook)) {
    throw new UsageError("UNKNOWN_HOOK", `scalpel ${cmd}: ${flag} ${hook} is not a hook point of this model.${didYouMean(hook, names)}`, { fix: "run 'scalpel inspect' for the hook point names" });
  }
}

/** Token rows of --text (one document per line) or of the built-in fact-world corpus. */
async function corpusRows(cmd: string, model: Model, values: { text?: string; context?: string }): Promise<{ rows: number[][]; source: string }> {
  const context = num("context", values.context, { integer: true, min: 2, max: model.config.nCtx }) ?? Math.min(128, model.config.nCtx);
  let texts: string[];
  if (values.text) {
    let raw: string;
    try {
      raw = await fs.readFile(values.text, "utf8");
    } catch (e) {
      throw new UsageError("TEXT_FILE_UNREADABLE", `scalpel ${cmd}: cannot read --text (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: values.text, fix: "check the --text path" });
    }
    texts = raw.split(/\r?\n/).filter((l) => l.trim() !== "");
  } else {
    const { buildFactWorld, trainingDocuments } = await import("../../data/factworld/index.js");
    texts = trainingDocuments(buildFactWorld());
  }
  return { rows: tokenRows(model.tokenizer, texts, context), source: values.text ?? "the built-in fact-world corpus" };
}

/** The last `n` rows: the final metrics' held-out set (train and eval use the same ones). */
function evalRowCount(cmd: string, value: string | undefined, rows: number, need: number, source: string): number {
  const n = num("eval-rows", value, { integer: true, min: 1 }) ?? 64;
  if (rows < need * n + 1) {
    throw new UsageError("TOO_FEW_ROWS", `scalpel ${cmd}: ${source} gives ${rows} token rows, too few to hold out ${need} × ${n} (--eval-rows)`, { fix: "pass a smaller --eval-rows or --context, or more --text" });
  }
  return n;
}

interface Metrics extends ReconstructionMetrics, SpliceMetrics {}

async function measure(model: Model, dict: Dictionary, rows: number[][]): Promise<Metrics> {
  const rec = await reconstructionMetrics(model, single(dict), rows);
  const ce = await spliceMetrics(model, single(dict), rows);
  return { ...rec, ...ce };
}

function printMetrics(d: Dictionary, m: Metrics, rows: number): void {
  const f = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(3));
  console.log(`${d.kind} ${d.hookIn}${d.hookOut !== d.hookIn ? ` → ${d.hookOut}` : ""}, d_sae ${d.dSae}, ${d.activation.type}${d.activation.type === "topk" ? ` k=${d.activation.k}` : ""}; held-out ${rows} rows, ${m.tokens} tokens`);
  console.log(`MSE                 ${f(m.mse)}`);
  console.log(`explained variance  ${f(m.explainedVariance)}`);
  console.log(`L0                  ${m.l0.toFixed(2)}`);
  console.log(`dead fraction       ${f(m.deadFraction)}`);
  console.log(`CE clean / spliced / zero-ablated  ${f(m.ceClean)} / ${f(m.ceSpliced)} / ${f(m.ceZeroAblation)}`);
  console.log(`CE loss recovered   ${f(m.ceLossRecovered)}`);
  console.log(`ΔCE                 ${f(m.deltaCE)}`);
}

async function train(argv: string[]): Promise<number> {
  const cmd = "sae train";
  const { values } = parseFlags(cmd, argv, {
    ...shared,
    layer: { type: "string" },
    width: { type: "string" },
    activation: { type: "string" },
    k: { type: "string" },
    l1: { type: "string" },
    steps: { type: "string" },
    "batch-tokens": { type: "string" },
    "buffer-tokens": { type: "string" },
    lr: { type: "string" },
    warmup: { type: "string" },
    "eval-every": { type: "string" },
    patience: { type: "string" },
    "resample-at": { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
  });
  if (!values.out) throw new UsageError("MISSING_OUT", `scalpel ${cmd}: --out DIR is required`, { fix: "run 'scalpel sae --help'" });
  const kind = kindFlag(cmd, values.kind);
  const act = values.activation ?? "topk";
  if (act !== "topk" && act !== "relu") throw new UsageError("BAD_FLAG_VALUE", `scalpel ${cmd}: --activation must be topk or relu, got '${act}'`, { fix: "e.g. --activation topk --k 32" });
  if (act === "topk" && values.l1 !== undefined) throw new UsageError("BAD_FLAGS", `scalpel ${cmd}: --l1 applies to --activation relu only (topk's sparsity is k)`, { fix: "drop --l1, or pass --activation relu" });
  if (act === "relu" && values.k !== undefined) throw new UsageError("BAD_FLAGS", `scalpel ${cmd}: --k applies to --activation topk only`, { fix: "drop --k, or pass --activation topk" });
  if (kind === "sae" && values["hook-out"] !== undefined && values["hook-out"] !== values["hook-in"]) {
    throw new UsageError("BAD_FLAGS", `scalpel ${cmd}: an SAE reconstructs one hook point; --hook-out is for --kind transcoder`, { fix: "drop --hook-out, or pass --kind transcoder" });
  }
  const steps = num("steps", values.steps, { integer: true, min: 1 }) ?? 1000;
  const model = await modelFromFlag(cmd, values.model);
  try {
    const { dModel, nLayers } = model.config;
    const layer = num("layer", values.layer, { integer: true, min: 0, max: nLayers - 1 }) ?? Math.floor(nLayers / 2);
    const width = num("width", values.width, { integer: true, min: 1 }) ?? 4 * dModel;
    const k = num("k", values.k, { integer: true, min: 1, max: width }) ?? Math.min(32, width);
    const hookIn = values["hook-in"] ?? (kind === "sae" ? `blocks.${layer}.hook_resid_post` : `blocks.${layer}.ln2.hook_normalized`);
    const hookOut = kind === "sae" ? hookIn : (values["hook-out"] ?? `blocks.${layer}.hook_mlp_out`);
    checkHook(cmd, model, "--hook-in", hookIn);
    checkHook(cmd, model, "--hook-out", hookOut);
    const { rows, source } = await corpusRows(cmd, model, values);
    const evalRows = evalRowCount(cmd, values["eval-rows"], rows.length, 2, source);
    const testRows = rows.slice(rows.length - evalRows);
    const valRows = rows.slice(rows.length - 2 * evalRows, rows.length - evalRows);
    const trainRows = rows.slice(0, rows.length - 2 * evalRows);
    console.error(`training ${kind} ${hookIn}${hookOut !== hookIn ? ` → ${hookOut}` : ""}, d_sae ${width}, ${act}${act === "topk" ? ` k=${k}` : ""}: ${steps} steps on ${trainRows.length} rows of ${source}`);
    const every = Math.max(1, Math.floor(steps / 10));
    const result = await trainDictionary({
      kind,
      hookIn,
      hookOut,
      dSae: width,
      activation: act === "topk" ? { type: "topk", k } : { type: "relu" },
      ...(act === "relu" ? { l1Coefficient: num("l1", values.l1, { min: 0 }) ?? 5 } : {}),
      source: new ModelActivations(model, hookIn, hookOut, trainRows),
      validation: new ModelActivations(model, hookIn, hookOut, valRows),
      steps,
      ...(values["batch-tokens"] !== undefined ? { batchTokens: num("batch-tokens", values["batch-tokens"], { integer: true, min: 1 }) } : {}),
      ...(values["buffer-tokens"] !== undefined ? { bufferTokens: num("buffer-tokens", values["buffer-tokens"], { integer: true, min: 1 }) } : {}),
      ...(values.lr !== undefined ? { lr: num("lr", values.lr, { min: 0 }) } : {}),
      lrWarmupSteps: num("warmup", values.warmup, { integer: true, min: 0 }) ?? 0,
      evalEvery: num("eval-every", values["eval-every"], { integer: true, min: 1 }) ?? every,
      ...(values.patience !== undefined ? { patience: num("patience", values.patience, { integer: true, min: 1 }) } : {}),
      ...(values["resample-at"] !== undefined ? { resampleAt: listFlag("sae", "resample-at", values["resample-at"], { integer: true, min: 1 }) } : {}),
      seed: num("seed", values.seed, { integer: true, min: 0 }) ?? 0,
      log: (r) => {
        if (r.step % every === 0 || r.step === steps || r.step === 1) {
          console.error(`step ${r.step}/${steps} loss ${r.loss.toFixed(4)} mse ${r.mse.toFixed(4)} L0 ${r.l0.toFixed(1)} dead ${r.deadFraction.toFixed(3)} lr ${r.lr.toExponential(2)}`);
        }
      },
    });
    const v = result.validation.at(-1);
    console.error(`trained ${result.steps} steps (${result.tokens} tokens)${result.stoppedEarly ? ", stopped early" : ""}${v ? `; validation MSE ${v.mse.toFixed(4)}, explained variance ${v.explainedVariance.toFixed(4)}` : ""}`);
    const dict = result.dictionary;
    // SAELens has no TopK transcoder: those go to scalpel's own dictionary file inside --out.
    if (dict.kind === "transcoder" && dict.activation.type === "topk") await saveDictionary(path.join(values.out, DICTIONARY_FILE), dict);
    else await saveSaeLens(values.out, dict);
    const m = await measure(model, dict, testRows);
    if (values.json) console.log(JSON.stringify({ out: values.out, kind, hookIn, hookOut, dSae: width, activation: dict.activation, steps: result.steps, stoppedEarly: result.stoppedEarly, evalRows: testRows.length, metrics: m }));
    else {
      printMetrics(dict, m, testRows.length);
      console.log(`saved ${values.out}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

async function evaluate(argv: string[]): Promise<number> {
  const cmd = "sae eval";
  const { values } = parseFlags(cmd, argv, { ...shared, dict: { type: "string" } });
  if (!values.dict) throw new UsageError("MISSING_DICT", `scalpel ${cmd}: --dict DIR|FILE.npz is required`, { fix: "run 'scalpel sae --help'" });
  const npz = values.dict.endsWith(".npz");
  if (!npz && (values["hook-in"] || values["hook-out"] || values.kind)) {
    throw new UsageError("BAD_FLAGS", `scalpel ${cmd}: --hook-in, --hook-out and --kind are for a Gemma Scope .npz (a SAELens folder names its hooks in cfg.json)`, { fix: "drop them" });
  }
  if (npz && !values["hook-in"]) throw new UsageError("MISSING_FLAG", `scalpel ${cmd}: --hook-in NAME is required with an .npz (Gemma Scope files do not name their hook point)`, { fix: "e.g. --hook-in blocks.12.hook_resid_post" });
  const kind = kindFlag(cmd, values.kind);
  const own = values.dict.endsWith(".safetensors") ? values.dict : existsSync(path.join(values.dict, DICTIONARY_FILE)) ? path.join(values.dict, DICTIONARY_FILE) : undefined;
  const dict = npz
    ? await loadGemmaScopeNpz(values.dict, { hookIn: values["hook-in"]!, ...(values["hook-out"] ? { hookOut: values["hook-out"] } : {}), kind })
    : own
      ? await loadDictionary(own)
      : await loadSaeLens(values.dict);
  const model = await modelFromFlag(cmd, values.model);
  try {
    checkHook(cmd, model, "hook-in", dict.hookIn);
    checkHook(cmd, model, "hook-out", dict.hookOut);
    if (dict.dIn !== model.config.dModel || dict.dOut !== model.config.dModel) {
      throw new UsageError("DICT_MODEL_MISMATCH", `scalpel ${cmd}: the dictionary maps ${dict.dIn} → ${dict.dOut} dimensions, the model's d_model is ${model.config.dModel}`, { file: values.dict, fix: "pass the --model it was trained on" });
    }
    const { rows, source } = await corpusRows(cmd, model, values);
    const evalRows = evalRowCount(cmd, values["eval-rows"], rows.length, 1, source);
    const testRows = rows.slice(rows.length - evalRows);
    const m = await measure(model, dict, testRows);
    if (values.json) console.log(JSON.stringify({ dict: values.dict, kind: dict.kind, hookIn: dict.hookIn, hookOut: dict.hookOut, dSae: dict.dSae, activation: dict.activation, evalRows: testRows.length, metrics: m }));
    else printMetrics(dict, m, testRows.length);
  } finally {
    model.dispose();
  }
  return 0;
}

export const saeCommand: Command = {
  name: "sae",
  summary: "Train a sparse autoencoder or transcoder (SAELens format); evaluate one (MSE, L0, CE recovered)",
  usage,
  async run(argv) {
    const { sub, rest } = subcommand("sae", argv, ["train", "eval"] as const);
    return sub === "train" ? train(rest) : evaluate(rest);
  },
};
