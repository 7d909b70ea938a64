/**
 * LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"; PEFT's `LoraLayer`):
 * a frozen weight W gets a trainable low-rank update,
 *
 *   h = x·W + (α / r) · (dropout(x)·A)·B         A [d_in, r], B [r, d_out], B initialised to 0
 *
 * (scalpel's matrices are [d_in, d_out]; PEFT stores lora_A.weight = Aᵀ [r, d_in] and
 * lora_B.weight = Bᵀ [d_out, r], see train/peft-format.ts). A starts Kaiming-uniform as in PEFT
 * (`nn.init.kaiming_uniform_(a=√5)`, i.e. U(−1/√d_in, 1/√d_in)), B at zero, so the adapted model
 * starts equal to the base. Merging adds ΔW = (α/r)·A·B to W (a weight patch); unmerged, the
 * adapter runs beside W through hooks (model/modules/lora.ts, a `lora` module patch) — the two give
 * the same logits.
 *
 * Targets are scalpel parameter names (`blocks.{l}.mlp.W_in`, `blocks.{l}.attn.W_Q`, …) or
 * patterns with `*` for any layer (`blocks.*.mlp.W_out`).
 */
import type { HostF32, ModulePatch, PatchInfo, WeightPatch } from "../model/patch.js";
import { loraScale, type LoraAdapter, type LoraFactors, type LoraModule } from "../model/modules/lora.js";
import type { Model } from "../model/types.js";
import { Rng } from "../util/rng.js";

/** The parameter names of `model` that `patterns` select (`*` matches one dotted segment or a layer). */
export function loraTargetNames(model: Model, patterns: readonly string[]): string[] {
  const names = Object.keys(model.params);
  const out: string[] = [];
  for (const p of patterns) {
    const re = new RegExp("^" + p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^.]+") + "$");
    const hit = names.filter((n) => re.test(n) && model.params[n]!.shape.length === 2);
    if (hit.length === 0) throw new RangeError(`LoRA target "${p}" matches no matrix of this model (e.g. blocks.*.mlp.W_in, blocks.*.attn.W_Q)`);
    for (const n of hit) if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** A fresh adapter: A ~ U(±1/√d_in) from `seed`, B = 0 (so it changes nothing yet). */
export function initLora(model: Model, options: { targets: readonly string[]; rank: number; alpha: number; dropout?: number; seed: number }): LoraAdapter {
  const { rank } = options;
  if (!(Number.isInteger(rank) && rank >= 1)) throw new RangeError(`LoRA rank must be a positive integer, got ${rank}`);
  const rng = new Rng(options.seed);
  const targets: Record<string, LoraFactors> = {};
  for (const name of loraTargetNames(model, options.targets)) {
    const [dIn, dOut] = model.params[name]!.shape as [number, number];
    const bound = 1 / Math.sqrt(dIn);
    const A = new Float32Array(dIn * rank);
    for (let i = 0; i < A.length; i++) A[i] = rng.uniform(-bound, bound);
    targets[name] = { A: { shape: [dIn, rank], data: A }, B: { shape: [rank, dOut], data: new Float32Array(rank * dOut) } };
  }
  return { rank, alpha: options.alpha, dropout: options.dropout ?? 0, targets };
}

/** ΔW = (α/r)·A·B for one target, computed in float64 and rounded once. */
export function loraDelta(adapter: LoraAdapter, name: string): HostF32 {
  const f = adapter.targets[name];
  if (!f) throw new RangeError(`the adapter has no target ${name}`);
  const [dIn, r] = f.A.shape as [number, number];
  const dOut = f.B.shape[1]!;
  const s = f.scale ?? loraScale(adapter);
  const out = new Float32Array(dIn * dOut);
  const row = new Float64Array(dOut);
  for (let i = 0; i < dIn; i++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const a = f.A.data[i * r + k]!;
      if (a === 0) continue;
      for (let j = 0; j < dOut; j++) row[j]! += a * f.B.data[k * dOut + j]!;
    }
    for (let j = 0; j < dOut; j++) out[i * dOut + j] = s * row[j]!;
  }
  return { shape: [dIn, dOut], data: out };
}

/** The adapter merged into the base weights: a weight patch W' = W + (α/r)·A·B. */
export function mergeLora(adapter: LoraAdapter, info: PatchInfo = { method: "lora" }): WeightPatch {
  const deltas: Record<string, HostF32> = {};
  for (const name of Object.keys(adapter.targets)) deltas[name] = loraDelta(adapter, name);
  return { type: "weights", info: { ...adapter.info, ...info, rank: adapter.rank, alpha: adapter.alpha }, deltas };
}

export { loraScale, type LoraAdapter, type LoraFactors };

/** The adapter unmerged: a module patch running it beside the frozen weights. */
export function loraPatch(adapter: LoraAdapter, info: PatchInfo = { method: "lora" }): ModulePatch {
  const module: LoraModule = { kind: "lora", adapter };
  return { type: "module", info: { ...adapter.info, ...info }, module };
}
