/**
 * A dictionary spliced into the forward pass (SAELens `HookedSAETransformer` splicing): the value
 * at hookOut is replaced by the reconstruction of the value at hookIn,
 *
 *   out = Σ_t s_t · decode_t(edit(encode_t(x_in)))        [+ (y − Σ_t s_t · decode_t(encode_t(x_in)))]
 *
 * For an SAE hookIn = hookOut (x_in = y); for a transcoder x_in is the MLP's input and y its real
 * output. Several terms make a delta transcoder (base + α·delta, sae/delta.ts): a term with s = 0
 * is skipped, so α = 0 is the base alone bit for bit. `keepError` adds the reconstruction error
 * back, computed on the unedited features: the model's output is then unchanged except through
 * feature edits — SAELens' `use_error_term`. Feature edits set a feature's activation to a value
 * (0 ablates it) at every position, in every forward pass and generation step.
 */
import { numpy as np } from "@jax-js/jax";
import { HandOver, type EncodedModule, type ModuleKind } from "../attached.js";
import type { HostF32 } from "../patch.js";
import type { Arr, Hook } from "../types.js";
import { checkDictionary, type Dictionary } from "./dictionary.js";
import { decode, dictionaryArrays, encode, type DictionaryArrays } from "./dictionary-math.js";

export interface FeatureEdit {
  /** Index into `terms`. */
  term: number;
  feature: number;
  /** The activation it is held at (0 ablates). */
  value: number;
}

export interface DictionarySplice {
  kind: "dictionary-splice";
  terms: { dictionary: Dictionary; scale: number }[];
  keepError: boolean;
  edits?: FeatureEdit[];
}

/** f with the listed features set to their values (a mask, so it stays one fused expression). */
function applyEdits(f: Arr, edits: FeatureEdit[], dSae: number): Arr {
  if (edits.length === 0) return f;
  const keep = new Float32Array(dSae).fill(1);
  const set = new Float32Array(dSae);
  for (const e of edits) {
    keep[e.feature] = 0;
    set[e.feature] = e.value;
  }
  return f.mul(np.array(keep)).add(np.array(set));
}

export const dictionarySpliceKind: ModuleKind<DictionarySplice> = {
  kind: "dictionary-splice",
  hooks(model, m) {
    if (m.terms.length === 0) throw new RangeError("a dictionary splice needs at least one dictionary");
    const { hookIn, hookOut } = m.terms[0]!.dictionary;
    const names = model.hookNames();
    m.terms.forEach((t, i) => {
      checkDictionary(t.dictionary, `splice term ${i}`);
      if (t.dictionary.hookIn !== hookIn || t.dictionary.hookOut !== hookOut) throw new RangeError(`splice term ${i} reads ${t.dictionary.hookIn} → ${t.dictionary.hookOut}, term 0 ${hookIn} → ${hookOut}: one splice has one site`);
    });
    for (const h of [hookIn, hookOut]) if (!names.includes(h)) throw new RangeError(`dictionary hook ${h} is not a hook point of this model`);
    for (const e of m.edits ?? []) {
      const d = m.terms[e.term]?.dictionary;
      if (!d || !(Number.isInteger(e.feature) && e.feature >= 0 && e.feature < d.dSae)) throw new RangeError(`feature edit ${JSON.stringify(e)} names no feature of the splice`);
    }
    const live = m.terms.map((t, i) => ({ ...t, i })).filter((t) => t.scale !== 0);
    const reconstruct = (xIn: Arr, y: Arr | undefined): Arr => {
      // Device copies per use, released after it: a patched model holds no device memory of its own.
      const weights: DictionaryArrays[] = live.map((t) => dictionaryArrays(t.dictionary));
      let out: Arr | undefined;
      let clean: Arr | undefined;
      live.forEach((t, j) => {
        const f = encode(xIn.ref, weights[j]!, t.dictionary.activation);
        const edits = (m.edits ?? []).filter((e) => e.term === t.i);
        const scaled = (v: Arr) => (t.scale === 1 ? v : v.mul(t.scale));
        if (y && edits.length) {
          const c = scaled(decode(f.ref, weights[j]!));
          clean = clean ? clean.add(c) : c;
        }
        const r = scaled(decode(applyEdits(f, edits, t.dictionary.dSae), weights[j]!));
        out = out ? out.add(r) : r;
      });
      xIn.dispose();
      for (const w of weights) for (const a of Object.values(w)) (a as Arr).dispose();
      if (!out) {
        // Every term has scale 0: the reconstruction is zero.
        out = y ? np.zerosLike(y.ref) : np.zeros([0]);
      }
      if (!y) return out;
      // Error term y − x̂(unedited); without edits x̂ + (y − x̂) is y up to rounding, so return y itself.
      if (!clean) {
        out.dispose();
        return y;
      }
      return out.add(y.sub(clean));
    };

    return () => {
      const hooks: Record<string, Hook> = {};
      if (hookIn === hookOut) {
        hooks[hookIn] = (x) => reconstruct(m.keepError ? x.ref : x, m.keepError ? x : undefined);
        return hooks;
      }
      const pass = new HandOver();
      hooks[hookIn] = (x) => (pass.put(hookIn, x, 1), x);
      hooks[hookOut] = (y) => {
        const xIn = pass.take(hookIn);
        if (m.keepError) return reconstruct(xIn, y);
        y.dispose();
        return reconstruct(xIn, undefined);
      };
      return hooks;
    };
  },
  encode(m) {
    const tensors: Record<string, HostF32> = {};
    const terms = m.terms.map((t, i) => {
      const { W_enc, W_dec, b_enc, b_dec, threshold, b_in, ...rest } = t.dictionary;
      const named = { W_enc, W_dec, b_enc, b_dec, threshold, b_in };
      for (const [k, v] of Object.entries(named)) if (v) tensors[`t${i}.${k}`] = v;
      const { info: _info, ...effect } = rest;
      return { scale: t.scale, dictionary: effect, has: Object.keys(named).filter((k) => named[k as keyof typeof named]) };
    });
    return { meta: { terms, keepError: m.keepError, edits: m.edits ?? [] }, tensors, about: m.terms.map((t) => t.dictionary.info ?? null) };
  },
  decode({ meta, tensors, about }: EncodedModule) {
    const m = meta as { terms: { scale: number; dictionary: Omit<Dictionary, "W_enc" | "W_dec" | "b_enc" | "b_dec">; has: string[] }[]; keepError: boolean; edits: FeatureEdit[] };
    if (!Array.isArray(m?.terms)) throw new RangeError("a dictionary splice needs its terms");
    const terms = m.terms.map((t, i) => {
      const get = (k: string) => {
        const v = tensors[`t${i}.${k}`];
        if (!v) throw new RangeError(`splice term ${i} lacks tensor ${k}`);
        return v;
      };
      const opt = Object.fromEntries(["threshold", "b_in"].filter((k) => t.has.includes(k)).map((k) => [k, get(k)]));
      const info = Array.isArray(about) ? (about[i] as Dictionary["info"] | null) : undefined;
      const rest = t.dictionary;
      const dictionary: Dictionary = { ...rest, ...(info ? { info } : {}), W_enc: get("W_enc"), W_dec: get("W_dec"), b_enc: get("b_enc"), b_dec: get("b_dec"), ...opt };
      checkDictionary(dictionary, `splice term ${i}`);
      return { dictionary, scale: t.scale };
    });
    return { kind: "dictionary-splice", terms, keepError: !!m.keepError, ...(m.edits?.length ? { edits: m.edits } : {}) };
  },
};
