/**
 * The MLP sublayer, plain or gated, with its hook points.
 *   plain (GPT-2, NeoX, GPT-J):   post = act(x·W_in + b_in)                 hook_pre = x·W_in + b_in
 *   gated (Llama SwiGLU, Gemma GeGLU): post = act(x·W_gate) ⊙ (x·W_in)      hook_pre = x·W_gate,
 *                                                      hook_pre_linear = x·W_in (TransformerLens names)
 *   out = post·W_out + b_out
 * The activation function is resolved once per forward by the caller.
 */
import { numpy as np } from "@jax-js/jax";
import type { HookRunner } from "./hooks.js";
import type { Arr } from "./types.js";

export interface MlpWeights {
  W_in: Arr;
  b_in?: Arr;
  W_gate?: Arr;
  b_gate?: Arr;
  W_out: Arr;
  b_out?: Arr;
}

/** x: [batch, pos, d_model] (consumed); weights consumed. Returns [batch, pos, d_model]. */
export function mlp(x: Arr, w: MlpWeights, act: (x: Arr) => Arr, hooks: HookRunner, layer: number): Arr {
  const prefix = `blocks.${layer}.mlp.`;
  let post: Arr;
  if (w.W_gate) {
    let gate = np.matmul(x.ref, w.W_gate);
    if (w.b_gate) gate = gate.add(w.b_gate);
    gate = hooks.point(prefix + "hook_pre", gate, layer);
    let up = np.matmul(x, w.W_in);
    if (w.b_in) up = up.add(w.b_in);
    up = hooks.point(prefix + "hook_pre_linear", up, layer);
    post = act(gate).mul(up);
  } else {
    w.b_gate?.dispose();
    let pre = np.matmul(x, w.W_in);
    if (w.b_in) pre = pre.add(w.b_in);
    pre = hooks.point(prefix + "hook_pre", pre, layer);
    post = act(pre);
  }
  post = hooks.point(prefix + "hook_post", post, layer);
  const out = np.matmul(post, w.W_out);
  return w.b_out ? out.add(w.b_out) : out;
}
