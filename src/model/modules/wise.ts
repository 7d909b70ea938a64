/**
 * WISE's side memories and router as an attached module (Wang et al. 2024, "WISE: Rethinking the
 * Knowledge Memory for Lifelong Model Editing of Large Language Models"; EasyEdit
 * easyeditor/models/wise/WISE.py, WISEAdapter.forward). The editor is edit/wise.ts.
 *
 * A side memory is a copy W_i of one layer's MLP down projection mlp.W_out. With a the input of
 * W_out (blocks.{l}.mlp.hook_post) and y = a·W_out (+ b_out) the main memory's output
 * (blocks.{l}.hook_mlp_out), memory i would output s_i = a·W_i (+ b_out). Its activation score on
 * an input is WISE.py `euc(original_output, side_output, infer=True)`:
 *
 *   Δ_i(t) = ‖ act(s_i(t)) − act(y(t)) ‖₂        per token t (act = the model's hidden_act, as euc)
 *   score_i = mean_t Δ_i(t)                       (max_t when the span is > 100 tokens, as euc)
 *
 * Aggregation span: EasyEdit averages over every token of the call, which in its teacher-forced
 * evaluation includes the answer being scored. Here the span is each row's tokens 0…q with
 * q = HookContext.queryPositions[row] (the last token of the input/context: the prompt when
 * scoring, the last prompt token at generation prefill, the new token at a KV decode step), so the
 * router's decision never depends on the continuation being scored. Left padding, when a batch
 * has it, is inside the span (hooks do not see the attention mask).
 *
 * threshold_i = minAct_i × actRatio (WISE.py: editing_mean_act.min_act() * act_ratio), minAct_i
 * the smallest editing activation recorded while memory i was trained. Routing, per row:
 * - "merge" (WISE-Merge, retrieve: false): memories [merged side memory, current shard] (either may
 *   be absent); if every score is below its threshold → y (the main memory's output); else the
 *   memory with the largest score (a tie goes to the later memory: WISE.py `dist1 > dist2`).
 * - "retrieve" (WISE-Retrieve): memories [current shard, memory 0, memory 1, …] scanned in order as
 *   WISE.py does: the current shard is chosen when score ≥ its threshold; then memory i replaces
 *   the choice when score_i > the best score so far and score_i > threshold_i.
 * The chosen output replaces y exactly (a 0/1 selection, so an unrouted row is y bit for bit).
 *
 * Gemma-2 normalises the MLP output before hook_mlp_out, so a side memory cannot run there
 * (RangeError, as lora.ts).
 */
import { numpy as np } from "@jax-js/jax";
import { HandOver, type ModuleKind } from "../attached.js";
import { activation } from "../activations.js";
import type { HostF32, PatchInfo } from "../patch.js";
import type { Arr, Hook, Model } from "../types.js";
import { readF32Sync } from "../../tensor/own.js";

export interface WiseMemory {
  /** The side memory's down projection, [d_mlp, d_model] like mlp.W_out. */
  W: HostF32;
  /** Smallest editing activation recorded for this memory (EditingMeanAct.min_act()). */
  minAct: number;
}

export type WiseRouting = "merge" | "retrieve";

export interface WiseModule {
  kind: "wise";
  layer: number;
  /** ACT2FN name applied to both outputs before the distance (WISE.py euc: the model's hidden_act). */
  act: string;
  /** threshold_i = minAct_i × actRatio. */
  actRatio: number;
  routing: WiseRouting;
  /** In routing order (see the file comment). */
  memories: WiseMemory[];
  info?: PatchInfo;
}

/**
 * The activation the distance applies (the model's hidden_act). SiLU is written x·½(1 + tanh(x/2)):
 * jax-js's nn.silu has a NaN gradient where exp(−x) overflows (x ≲ −88), which the MLP *outputs*
 * this is applied to reach; the tanh form is the same function with a finite gradient everywhere.
 */
export function wiseActivation(name: string): (x: Arr) => Arr {
  if (name === "silu" || name === "swish") return (x) => x.ref.mul(np.tanh(x.mul(0.5)).add(1)).mul(0.5);
  return activation(name);
}

/** Per-token distance ‖act(side) − act(main)‖ over the last axis: [B, T, d] × 2 → [B, T] (consumed). */
export function wiseTokenDistance(act: (x: Arr) => Arr, side: Arr, main: Arr): Arr {
  const d = act(side).sub(act(main));
  const sq = d.ref.mul(d).sum(-1);
  // torch.norm's backward is 0 where the norm is 0 (a fresh side memory equals the main one);
  // √ alone would give ∞·0 = NaN there. Where sq > 0 this is √sq exactly (sq + 0, times 1).
  const zero = np.equal(sq.ref, 0).astype(np.float32);
  return np.sqrt(sq.add(zero.ref)).mul(zero.mul(-1).add(1));
}

/** One row's score from its token distances over the span 0…q (mean; max beyond 100 tokens, as euc). */
export function wiseRowScore(dist: ArrayLike<number>, q: number): number {
  const n = q + 1;
  if (n > 100) {
    let m = -Infinity;
    for (let t = 0; t < n; t++) m = Math.max(m, dist[t]!);
    return m;
  }
  let s = 0;
  for (let t = 0; t < n; t++) s += dist[t]!;
  return s / n;
}

/** The routing decision for one row: the chosen memory's index, or −1 for the main memory. */
export function wiseRoute(routing: WiseRouting, scores: readonly number[], thresholds: readonly number[]): number {
  if (routing === "merge") {
    if (scores.every((s, i) => s < thresholds[i]!)) return -1;
    let best = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i]! >= scores[best]!) best = i;
    return best;
  }
  if (scores.length === 0) return -1;
  let chosen = scores[0]! >= thresholds[0]! ? 0 : -1;
  let best = scores[0]!;
  for (let i = 1; i < scores.length; i++) {
    if (scores[i]! > best && scores[i]! > thresholds[i]!) {
      chosen = i;
      best = scores[i]!;
    }
  }
  return chosen;
}

/** Hook points of the side memories at `layer`; RangeError where they cannot run. */
export function wiseSite(model: Model, layer: number): { input: string; output: string; weight: string; bias: string } {
  const { nLayers, postNorms } = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= nLayers) throw new RangeError(`WISE layer ${layer} is not a layer of this model (0…${nLayers - 1}): set layers to [l] with l in that range`);
  if (postNorms) throw new RangeError("WISE: this model normalises the MLP output before blocks.{l}.hook_mlp_out (Gemma-2), so a side memory of mlp.W_out cannot run there");
  const b = `blocks.${layer}.`;
  return { input: b + "mlp.hook_post", output: b + "hook_mlp_out", weight: b + "mlp.W_out", bias: b + "mlp.b_out" };
}

function checkModule(model: Model, m: WiseModule): ReturnType<typeof wiseSite> {
  const site = wiseSite(model, m.layer);
  const shape = model.params[site.weight]!.shape;
  for (const [i, mem] of m.memories.entries()) {
    if (mem.W.shape.join() !== shape.join()) throw new RangeError(`WISE memory ${i} has shape [${mem.W.shape}], ${site.weight} is [${shape}]`);
  }
  if (!(m.actRatio >= 0)) throw new RangeError(`WISE act_ratio ${m.actRatio}: use a number ≥ 0 (EasyEdit uses 0.8–0.9)`);
  return site;
}

export const wiseKind: ModuleKind<WiseModule> = {
  kind: "wise",
  hooks(model, m) {
    const site = checkModule(model, m);
    const act = wiseActivation(m.act);
    const thresholds = m.memories.map((mem) => mem.minAct * m.actRatio);
    const bias = model.params[site.bias];
    return () => {
      if (m.memories.length === 0) return {};
      const pass = new HandOver();
      const hooks: Record<string, Hook> = {
        [site.input]: (a) => (pass.put(site.input, a, 1), a),
        [site.output]: (y, ctx) => {
          const a = pass.take(site.input);
          const sides = m.memories.map((mem, i) => {
            const s = np.matmul(i === m.memories.length - 1 ? a : a.ref, np.array(mem.W.data).reshape(mem.W.shape));
            return bias ? s.add(bias.ref) : s;
          });
          const [B, T] = y.shape as [number, number];
          const dists = sides.map((s) => readF32Sync(wiseTokenDistance(act, s.ref, y.ref)));
          const choice = Array.from({ length: B }, (_, b) => {
            const q = ctx.queryPositions[b] ?? T - 1;
            return wiseRoute(m.routing, dists.map((d) => wiseRowScore(d.subarray(b * T, (b + 1) * T), q)), thresholds);
          });
          if (choice.every((c) => c === choice[0])) {
            const c = choice[0]!;
            sides.forEach((s, i) => i !== c && s.dispose());
            if (c < 0) return y;
            y.dispose();
            return sides[c]!;
          }
          // Rows differ: a 0/1 selection per row keeps every row's chosen output exact (x·1 + s·0).
          const pick = (i: number) => np.array(Float32Array.from(choice, (c) => (c === i ? 1 : 0))).reshape([B, 1, 1]);
          return sides.reduce((acc, s, i) => acc.add(s.mul(pick(i))), y.mul(pick(-1)));
        },
      };
      return hooks;
    };
  },
  encode(m) {
    const tensors: Record<string, HostF32> = {};
    m.memories.forEach((mem, i) => (tensors[`memory.${i}.W`] = mem.W));
    return {
      meta: { layer: m.layer, act: m.act, actRatio: m.actRatio, routing: m.routing, minAct: m.memories.map((mem) => mem.minAct) },
      tensors,
      about: m.info ?? null,
    };
  },
  decode({ meta, tensors, about }) {
    const x = meta as { layer: number; act: string; actRatio: number; routing: WiseRouting; minAct: number[] };
    if (typeof x?.layer !== "number" || typeof x.act !== "string" || typeof x.actRatio !== "number" || !Array.isArray(x.minAct)) {
      throw new RangeError("a WISE module needs layer, act, actRatio and minAct");
    }
    if (x.routing !== "merge" && x.routing !== "retrieve") throw new RangeError(`WISE routing "${String(x.routing)}": use "merge" or "retrieve"`);
    const memories = x.minAct.map((minAct, i) => {
      const W = tensors[`memory.${i}.W`];
      if (!W) throw new RangeError(`WISE module lacks tensor memory.${i}.W`);
      return { W, minAct };
    });
    const info = (about ?? undefined) as PatchInfo | undefined;
    return { kind: "wise", layer: x.layer, act: x.act, actRatio: x.actRatio, routing: x.routing, memories, ...(info ? { info } : {}) };
  },
};
