/**
 * An unmerged LoRA adapter as an attached module (train/lora.ts has the method, its init, merge
 * and training). For each adapted matrix W the adapter runs beside it,
 *
 *   out = x·W + s·(x·A)·B,      s = α/r (or the target's own scale)
 *
 * by reading x at the hook point where W's input appears and adding s·(x·A)·B at the hook point
 * where W's output appears:
 *
 *   attn.W_Q / W_K / W_V   ln1.hook_normalized → attn.hook_q / hook_k / hook_v (before rotary;
 *                          rotary is linear per position, so adding before it is exact)
 *   attn.W_O               attn.hook_z (heads flattened) → hook_attn_out
 *   mlp.W_in               ln2.hook_normalized → mlp.hook_pre (plain MLP) / mlp.hook_pre_linear (gated)
 *   mlp.W_gate             ln2.hook_normalized → mlp.hook_pre
 *   mlp.W_out              mlp.hook_post → hook_mlp_out
 *
 * Gemma-2 normalises attention and MLP outputs before hook_attn_out / hook_mlp_out, so W_O and
 * W_out adapters cannot run unmerged there: merge them (a weight patch) instead. Dropout is a
 * training-time operation; inference applies none, as PEFT's eval mode.
 */
import { numpy as np } from "@jax-js/jax";
import { HandOver, type ModuleKind } from "../attached.js";
import type { HostF32, PatchInfo } from "../patch.js";
import type { Arr, Hook, Model } from "../types.js";

export interface LoraFactors {
  /** [d_in, r] */
  A: HostF32;
  /** [r, d_out] */
  B: HostF32;
  /**
   * This target's scaling when it differs from the adapter's α/r: PEFT's rank_pattern /
   * alpha_pattern (α_t / r_t) or rsLoRA (α / √r), kept so loaded adapters compute what PEFT does.
   */
  scale?: number;
}

export interface LoraAdapter {
  rank: number;
  alpha: number;
  dropout: number;
  /** Parameter name → its factors. */
  targets: Record<string, LoraFactors>;
  info?: PatchInfo;
}

/** α / r: PEFT's `scaling` (without rsLoRA). */
export const loraScale = (adapter: Pick<LoraAdapter, "rank" | "alpha">) => adapter.alpha / adapter.rank;

export interface LoraModule {
  kind: "lora";
  adapter: LoraAdapter;
}

interface Site {
  input: string;
  output: string;
}

/** Where target `name`'s input and output appear as hook points. */
export function loraSite(model: Model, name: string): Site {
  const m = /^blocks\.(\d+)\.(attn\.W_[QKVO]|mlp\.W_(?:in|gate|out))$/.exec(name);
  if (!m) throw new RangeError(`LoRA target ${name} cannot run unmerged (adapters on attn.W_Q/W_K/W_V/W_O and mlp.W_in/W_gate/W_out can); merge it instead`);
  const b = `blocks.${m[1]}.`;
  const { gatedMlp, postNorms } = model.config;
  if (postNorms && (m[2] === "attn.W_O" || m[2] === "mlp.W_out")) {
    throw new RangeError(`LoRA target ${name}: this model normalises that output before its hook point, so the adapter cannot run unmerged; merge it (mergeLora) instead`);
  }
  switch (m[2]) {
    case "attn.W_Q":
      return { input: b + "ln1.hook_normalized", output: b + "attn.hook_q" };
    case "attn.W_K":
      return { input: b + "ln1.hook_normalized", output: b + "attn.hook_k" };
    case "attn.W_V":
      return { input: b + "ln1.hook_normalized", output: b + "attn.hook_v" };
    case "attn.W_O":
      return { input: b + "attn.hook_z", output: b + "hook_attn_out" };
    case "mlp.W_in":
      return { input: b + "ln2.hook_normalized", output: b + (gatedMlp ? "mlp.hook_pre_linear" : "mlp.hook_pre") };
    case "mlp.W_gate":
      return { input: b + "ln2.hook_normalized", output: b + "mlp.hook_pre" };
    default:
      return { input: b + "mlp.hook_post", output: b + "hook_mlp_out" };
  }
}

/** One adapted matrix in one pass: where it reads and writes, and its factors (owned, fresh per call). */
export interface LoraSite {
  input: string;
  output: string;
  A: () => Arr;
  B: () => Arr;
  scale: number;
  /** Applied to the input before A (training-time dropout); identity when absent. */
  dropout?: (x: Arr) => Arr;
}

/**
 * The hooks of one forward pass running `sites` unmerged: s·(x·A)·B added at each output, with x
 * read at the input (any leading shape whose trailing axes flatten to d_in, e.g. hook_z's heads).
 * Shared by the patch kind below and by LoRA training (train/lora-train.ts, traced factors).
 */
export function loraPassHooks(sites: readonly LoraSite[]): Record<string, Hook> {
  const uses = new Map<string, number>();
  for (const s of sites) uses.set(s.input, (uses.get(s.input) ?? 0) + 1);
  const pass = new HandOver();
  const hooks: Record<string, Hook> = {};
  for (const [input, n] of uses) hooks[input] = (x) => (pass.put(input, x, n), x);
  for (const site of sites) {
    const before = hooks[site.output];
    hooks[site.output] = (y, ctx) => {
      const out = before ? before(y, ctx) : y;
      const A = site.A();
      const x = pass.take(site.input);
      const flat = x.reshape([...x.shape.slice(0, 2), A.shape[0]!]);
      const d = np.matmul(np.matmul(site.dropout ? site.dropout(flat) : flat, A), site.B()).mul(site.scale);
      return out.add(d.reshape(out.shape));
    };
  }
  return hooks;
}

/** Checks the factors fit the model; returns each target's site. */
export function loraSites(model: Model, adapter: LoraAdapter): (Site & { name: string; scale: number })[] {
  return Object.entries(adapter.targets).map(([name, f]) => {
    const W = model.params[name];
    if (!W) throw new RangeError(`LoRA target ${name} is not a parameter of this model`);
    if (f.A.shape[0] !== W.shape[0] || f.B.shape[1] !== W.shape[1] || f.B.shape[0] !== f.A.shape[1]) {
      throw new RangeError(`LoRA factors of ${name} have shapes A [${f.A.shape}], B [${f.B.shape}]; the matrix is [${W.shape}]`);
    }
    return { name, scale: f.scale ?? loraScale(adapter), ...loraSite(model, name) };
  });
}

export const loraKind: ModuleKind<LoraModule> = {
  kind: "lora",
  hooks(model, { adapter }) {
    const sites = loraSites(model, adapter).map((s) => {
      const f = adapter.targets[s.name]!;
      return { ...s, A: () => np.array(f.A.data).reshape(f.A.shape), B: () => np.array(f.B.data).reshape(f.B.shape) };
    });
    return () => loraPassHooks(sites);
  },
  encode({ adapter }) {
    const tensors: Record<string, HostF32> = {};
    const targets: Record<string, { scale?: number }> = {};
    for (const [name, f] of Object.entries(adapter.targets)) {
      tensors[`${name}.A`] = f.A;
      tensors[`${name}.B`] = f.B;
      targets[name] = f.scale === undefined ? {} : { scale: f.scale };
    }
    return { meta: { rank: adapter.rank, alpha: adapter.alpha, dropout: adapter.dropout, targets }, tensors, about: adapter.info ?? null };
  },
  decode({ meta, tensors, about }) {
    const m = meta as { rank: number; alpha: number; dropout: number; targets: Record<string, { scale?: number }> };
    const info = (about ?? undefined) as PatchInfo | undefined;
    if (typeof m?.rank !== "number" || typeof m.alpha !== "number" || typeof m.targets !== "object") throw new RangeError("a LoRA module needs rank, alpha and targets");
    const targets: Record<string, LoraFactors> = {};
    for (const [name, t] of Object.entries(m.targets)) {
      const A = tensors[`${name}.A`];
      const B = tensors[`${name}.B`];
      if (!A || !B) throw new RangeError(`LoRA target ${name} lacks its A or B tensor`);
      targets[name] = t.scale === undefined ? { A, B } : { A, B, scale: t.scale };
    }
    return { kind: "lora", adapter: { rank: m.rank, alpha: m.alpha, dropout: m.dropout ?? 0, targets, ...(info ? { info } : {}) } };
  },
};
