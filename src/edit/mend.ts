/**
 * MEND (Mitchell et al. 2022, "Fast Model Editing at Scale") as a scalpel editor: apply a trained
 * editor network (mend-net.ts, trained by mend-train.ts) to the edit loss's gradient factors.
 *
 * One edit call (EasyEdit easyeditor/models/mend/mend_main.py → trainer/algs/MEND.py MEND.edit):
 *   1. edit loss L = masked NLL of " target_new" teacher-forced after each prompt, mean over all
 *      target tokens of the batch (losses.py masked_log_probs "nll"); all requests form one batch,
 *      as MEND edits a batch at once;
 *   2. per inner matrix W_ℓ [d_in, d_out]: u_t = its input, δ_t = ∂L/∂(its output) for every token
 *      row t (∇W_ℓ = Σ_t u_t δ_tᵀ — the hooks of trainer/algs/hooks.py); δ is the gradient w.r.t. a
 *      zero array added at the output hook point, u the input hook point's activation;
 *   3. ũ, δ̃ = g_ℓ(u, δ) (mend-net.ts, evaluation mode: running statistics are not updated);
 *   4. ΔW_ℓ = −lr_scale · α_ℓ · Σ_t ũ_t δ̃_tᵀ (paper eq. for W̃ = W − α∇̃W; see mend-net.ts on the sign).
 * Returns a WeightPatch of the ΔW (info.method "mend"); sequential streams compose the patches.
 *
 * Differences from mend_main.py, on purpose: EasyEdit's executor labels edit_inner with the target's
 * own token ids (not aligned with the sentence); we score the target tokens where they follow the
 * prompt, the loss MEND was meta-trained on (EditTrainer's edit_inner labels).
 */
import { numpy as np, valueAndGrad } from "@jax-js/jax";
import { lossPositions, tokenLogprobs } from "../eval/logprobs.js";
import { modelHash } from "../model/hash.js";
import type { WeightPatch } from "../model/patch.js";
import type { Arr, Model, ModelConfig } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { idmlpForward, modeOf, netArrays, networkInput, splitFactors, type MendNetwork } from "./mend-net.js";
import { fill, teacherForcedBatch, type TeacherForcedBatch } from "./tokens.js";
import type { EditContext, EditorDefinition, EditRequest, Editor } from "./types.js";

export interface MendHparams {
  /** archive: the trained network (data), or a path to its .safetensors file (Node only). */
  archive: MendNetwork | string | null;
  /** inner_params: the matrices the archive edits (checked against it when given). */
  innerParams: string[];
  /** lr_scale: multiplies the learned edit lrs (EasyEdit MENDHyperParams.lr_scale). */
  lrScale: number;
}

/** Where W's input and output appear as hook points (the same map as model/modules/lora.ts). */
export function mendHooks(config: ModelConfig, name: string): { input: string; output: string } {
  const m = /^blocks\.(\d+)\.mlp\.(W_in|W_gate|W_out)$/.exec(name);
  if (!m) throw new RangeError(`MEND inner_params entry ${JSON.stringify(name)} is not an MLP matrix: use blocks.{l}.mlp.W_in, W_gate or W_out`);
  const l = Number(m[1]);
  if (l >= config.nLayers) throw new RangeError(`MEND inner_params entry ${name}: the model has ${config.nLayers} layers (0…${config.nLayers - 1})`);
  if (config.postNorms) throw new RangeError(`MEND cannot edit ${name} on ${config.modelType}: Gemma-2 normalises the MLP output before hook_mlp_out, so the output hook is not W's output; choose another model`);
  const b = `blocks.${l}.`;
  if (m[2] === "W_out") return { input: b + "mlp.hook_post", output: b + "hook_mlp_out" };
  if (m[2] === "W_gate") {
    if (!config.gatedMlp) throw new RangeError(`MEND inner_params entry ${name}: this model's MLP has no gate`);
    return { input: b + "ln2.hook_normalized", output: b + "mlp.hook_pre" };
  }
  return { input: b + "ln2.hook_normalized", output: b + (config.gatedMlp ? "mlp.hook_pre_linear" : "mlp.hook_pre") };
}

/** A teacher-forced batch (edit/tokens.ts), weighted as MEND's masked mean. */
export type TfBatch = TeacherForcedBatch;

/**
 * prompt + " target" rows (right-padded), the target tokens scored where they follow the prompt,
 * each weighted 1/(all target tokens of the batch): the masked mean NLL of losses.py. `prompts` are
 * filled prompt texts.
 */
export function teacherForced(model: Model, items: { prompt: string; target: string }[]): TfBatch {
  return teacherForcedBatch(model.tokenizer, items, "per-token");
}

/** The edit requests as a teacher-forced batch. */
export function requestBatch(model: Model, requests: readonly EditRequest[]): TfBatch {
  return teacherForced(model, requests.map((r) => ({ prompt: fill(r.prompt, r.subject), target: r.targetNew })));
}

/** The positions batchNll reads: pass `.positions` as the forward's logitsPositions (the unembedding then runs for those only). */
export function nllPositions(b: TfBatch): ReturnType<typeof lossPositions> {
  return lossPositions(b.targets, b.weights, b.tokens.length, b.tokens[0]!.length);
}

/** Mean NLL of a batch from logits (consumed) at nllPositions(b): −Σ w·log p(target). */
export function batchNll(logits: Arr, b: TfBatch): Arr {
  const { targets, weights, P } = nllPositions(b);
  const B = b.tokens.length;
  const { logprobs, greedy } = tokenLogprobs(logits, np.array(targets, { dtype: np.int32 }).reshape([B, P]));
  greedy.dispose();
  return logprobs.mul(np.array(weights).reshape([B, P])).sum().mul(-1);
}

/** Gradient factors of one matrix: rows u [n, d_in], δ [n, d_out] (n = batch · positions). */
export interface Factors {
  u: Float32Array;
  d: Float32Array;
  n: number;
}

/**
 * u and δ of every inner matrix for the NLL of `batch` under `model` (its current parameters):
 * one forward caching the input hooks, one forward + backward w.r.t. zero arrays added at the output
 * hooks (∂L/∂z = ∂L/∂y exactly, since y + z with z = 0 is y). Returns the loss too.
 */
export async function mendFactors(model: Model, names: readonly string[], batch: TfBatch): Promise<{ factors: Factors[]; loss: number }> {
  const hooks = names.map((n) => mendHooks(model.config, n));
  const B = batch.tokens.length;
  const T = batch.tokens[0]!.length;
  const fwd = model.forward(batch.tokens, { attentionMask: batch.mask, cache: hooks.map((h) => h.input) });
  fwd.logits?.dispose();
  const us: Float32Array[] = [];
  for (const h of hooks) us.push(await readF32(fwd.cache[h.input]!.ref));
  disposeTree(fwd.cache);
  const outDims = names.map((n) => model.params[n]!.shape[1]!);
  const loss = (zs: Arr[]): Arr => {
    const hk: Record<string, (x: Arr) => Arr> = {};
    hooks.forEach((h, i) => {
      const prev = hk[h.output];
      hk[h.output] = prev ? (x) => prev(x).add(zs[i]!) : (x) => x.add(zs[i]!);
    });
    const { logits, cache } = model.forward(batch.tokens, { attentionMask: batch.mask, hooks: hk, paddedLogits: true, logitsPositions: nllPositions(batch).positions });
    disposeTree(cache);
    return batchNll(logits!, batch);
  };
  const zeros = outDims.map((d) => np.zeros([B, T, d]));
  const [value, gs] = valueAndGrad(loss)(zeros) as unknown as [Arr, Arr[]];
  const lossValue = await readF32(value);
  const ds: Float32Array[] = [];
  for (const g of gs) ds.push(await readF32(g));
  return { factors: names.map((_, i) => ({ u: us[i]!, d: ds[i]!, n: B * T })), loss: lossValue[0]! };
}

/**
 * ΔW for every inner matrix from factors, with the network in evaluation mode (host numbers out):
 * ΔW = −scale·α_ℓ · ũᵀ δ̃  ([d_in, n]·[n, d_out]).
 */
export async function mendDeltas(net: MendNetwork, factors: readonly Factors[], lrScale = 1): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < net.innerParams.length; i++) {
    const { key, mode } = modeOf(net, i);
    const sn = net.nets[key]!;
    const f = factors[i]!;
    const { x, rows } = networkInput(sn, net.config.norm, f.u, f.d, f.n, false);
    const [din, dout] = net.shapes[i]!;
    if (rows === 0) {
      out.push(new Float32Array(din! * dout!));
      continue;
    }
    const z = idmlpForward(netArrays(sn), np.array(x).reshape([rows, sn.xDim + sn.deltaDim]), net.config.nHidden, mode, sn.nModes);
    const { u, d } = splitFactors(z, sn.xDim, sn.deltaDim);
    out.push(await readF32(np.matmul(np.transpose(u), d).mul(-lrScale * net.editLrs[i]!)));
  }
  return out;
}

/** Load `archive` when it is a path (Node: the loader is imported only then, so this file stays browser-safe). */
export async function resolveArchive(archive: MendHparams["archive"]): Promise<MendNetwork> {
  if (archive === null || archive === undefined || archive === "") throw new RangeError("MEND needs a trained network: set hparams archive to a mend .safetensors file (train one with `scalpel mend train`) or pass the network");
  if (typeof archive !== "string") return archive;
  const { loadMendNetwork } = await import("./mend-file-node.js");
  return loadMendNetwork(archive);
}

export async function mendEdit(model: Model, requests: EditRequest[], hp: MendHparams, context: EditContext = {}): Promise<WeightPatch> {
  if (requests.length === 0) throw new RangeError("MEND edit: no requests");
  const net = await resolveArchive(hp.archive);
  if (hp.innerParams.length > 0 && hp.innerParams.join(",") !== net.innerParams.join(",")) {
    throw new RangeError(`MEND inner_params ${JSON.stringify(hp.innerParams)} differ from the archive's ${JSON.stringify(net.innerParams)}: leave inner_params empty or give the archive's list`);
  }
  net.innerParams.forEach((n, i) => {
    const s = model.params[n]?.shape;
    if (!s || s[0] !== net.shapes[i]![0] || s[1] !== net.shapes[i]![1]) throw new RangeError(`MEND archive edits ${n} of shape ${JSON.stringify(net.shapes[i])}, the model has ${JSON.stringify(s ?? null)}: use a network trained for this model`);
  });
  context.onProgress?.("mend", 0, 1);
  const { factors } = await mendFactors(model, net.innerParams, requestBatch(model, requests));
  const deltas = await mendDeltas(net, factors, hp.lrScale);
  context.onProgress?.("mend", 1, 1);
  const out: WeightPatch["deltas"] = {};
  net.innerParams.forEach((n, i) => (out[n] = { shape: [...net.shapes[i]!], data: deltas[i]! }));
  const config = { ...hp, archive: typeof hp.archive === "string" ? hp.archive : "(in memory)" };
  return { type: "weights", info: { method: "mend", config, seed: context.seed, createdAt: new Date().toISOString(), baseModelHash: await modelHash(model), requests }, deltas: out };
}

/** EasyEdit's default: the MLP matrices of the last 3 layers (here W_in and W_out). */
export function defaultInnerParams(config: ModelConfig): string[] {
  const out: string[] = [];
  for (let l = Math.max(0, config.nLayers - 3); l < config.nLayers; l++) out.push(`blocks.${l}.mlp.W_in`, `blocks.${l}.mlp.W_out`);
  return out;
}

function mendDefaults(_config: ModelConfig): MendHparams {
  return { archive: null, innerParams: [], lrScale: 1 };
}

export const mendEditor: EditorDefinition<MendHparams> = {
  name: "mend",
  keys: {
    archive: { field: "archive", kind: "string" },
    inner_params: { field: "innerParams", kind: "string[]" },
    lr_scale: { field: "lrScale", kind: "number" },
  },
  defaults: mendDefaults,
  create(): Editor<MendHparams> {
    return { name: "mend", sequential: "compose", defaults: mendDefaults, edit: mendEdit };
  },
};

