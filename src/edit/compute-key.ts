/**
 * Keys: the input of layer l's MLP output projection (blocks.{l}.mlp.hook_post) at the subject's
 * last token — ROME's k (compute_u: get_reprs_at_word_tokens with track "in" on the rewrite
 * module), MEMIT's compute_ks. A key is averaged over context templates so it stands for the
 * subject in any context (ROME eq. 3: k* = 1/N Σ_j k(x_j + s)).
 */
import type { Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { hookOfLayer } from "./covariance.js";
import { fill, padIdOf, padRight, subjectLastIndex } from "./tokens.js";

export interface KeyQuery {
  /** A prompt template with "{}" for the subject (a context template already filled in). */
  template: string;
  subject: string;
}

/** Keys at the subject's last token of each query ([d_mlp] each), batched `batchSize` at a time. */
export function keysAt(model: Model, layer: number, queries: KeyQuery[], batchSize = 16): Promise<Float32Array[]> {
  return activationsAtSubject(model, hookOfLayer(layer), model.config.dMlp, queries, batchSize);
}

/** The activation at `hook` (width `d`) at the subject's last token of each query, in order. */
export async function activationsAtSubject(model: Model, hook: string, d: number, queries: KeyQuery[], batchSize = 16): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let s = 0; s < queries.length; s += batchSize) {
    const located = queries.slice(s, s + batchSize).map((q) => subjectLastIndex(model.tokenizer, q.template, q.subject));
    const { tokens, mask } = padRight(located.map((l) => l.ids), padIdOf(model.tokenizer));
    const { cache, logits } = model.forward(tokens, { attentionMask: mask, cache: [hook], stopAt: hook });
    logits?.dispose();
    const acts = cache[hook]!;
    delete cache[hook];
    disposeTree(cache);
    const T = tokens[0]!.length;
    const data = await readF32(acts);
    located.forEach((l, b) => out.push(data.slice((b * T + l.index) * d, (b * T + l.index + 1) * d)));
  }
  return out;
}

/**
 * The template-averaged key of each request: for every context template c, the key of
 * c.format(prompt) with the subject; averaged within each template group, then across groups
 * (MEMIT compute_ks), or uniformly over all templates (`flat`, ROME compute_u). float64.
 */
export async function averagedKeys(
  model: Model,
  layer: number,
  requests: { prompt: string; subject: string }[],
  templates: string[][],
  mode: "grouped" | "flat",
): Promise<Float64Array[]> {
  const groups = mode === "flat" ? [templates.flat()] : templates;
  const flat = groups.flat();
  const queries = requests.flatMap((r) => flat.map((c) => ({ template: fill(c, r.prompt), subject: r.subject })));
  const keys = await keysAt(model, layer, queries);
  const d = model.config.dMlp;
  return requests.map((_, r) => {
    const out = new Float64Array(d);
    let at = r * flat.length;
    for (const g of groups) {
      const mean = new Float64Array(d);
      for (let j = 0; j < g.length; j++, at++) {
        const k = keys[at]!;
        for (let i = 0; i < d; i++) mean[i]! += k[i]! / g.length;
      }
      for (let i = 0; i < d; i++) out[i]! += mean[i]! / groups.length;
    }
    return out;
  });
}
