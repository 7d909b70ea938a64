/**
 * A sparse dictionary: what an SAE and a transcoder both are (SAELens' naming and layout).
 *
 *   encode:  f = σ((x − b_in) · W_enc + b_enc)        W_enc [d_in, d_sae], b_enc [d_sae]
 *   decode:  x̂ = f · W_dec + b_dec                     W_dec [d_sae, d_out], b_dec [d_out]
 *
 * σ is ReLU, TopK (ReLU of the k largest pre-activations, SAELens TopK) or JumpReLU
 * (pre · 1[pre > θ], with pre > θ ≥ 0 implying ReLU; Gemma Scope / SAELens JumpReLU, θ [d_sae]).
 * b_in is SAELens' `apply_b_dec_to_input` (an SAE subtracts its decoder bias from the input before
 * encoding, so b_in = b_dec); a transcoder's input and output live in different spaces, so it has
 * no input bias unless a loaded file gives one.
 *
 * An SAE reconstructs one hook point (hookIn = hookOut, d_in = d_out). A transcoder maps the MLP's
 * input (`blocks.{l}.ln2.hook_normalized` or `blocks.{l}.hook_mlp_in`) to its output
 * (`blocks.{l}.hook_mlp_out`). Weights are host data, so a dictionary hashes, saves and loads
 * without a device (sae/formats.ts for SAELens and Gemma Scope files).
 */
import type { HostF32 } from "../patch.js";

export type DictionaryActivation = { type: "relu" } | { type: "topk"; k: number } | { type: "jumprelu" };

export interface Dictionary {
  /** "sae": reconstructs hookIn; "transcoder": maps hookIn to hookOut. */
  kind: "sae" | "transcoder";
  hookIn: string;
  hookOut: string;
  dIn: number;
  dSae: number;
  dOut: number;
  activation: DictionaryActivation;
  W_enc: HostF32;
  W_dec: HostF32;
  b_enc: HostF32;
  b_dec: HostF32;
  /** JumpReLU thresholds θ [d_sae]; required when activation is "jumprelu". */
  threshold?: HostF32;
  /** Subtracted from the input before encoding [d_in] (SAELens apply_b_dec_to_input). */
  b_in?: HostF32;
  /** Where it came from and how it was trained (free-form, saved in file headers). */
  info?: Record<string, unknown>;
}

/** Throws a RangeError naming the first field whose shape disagrees with d_in/d_sae/d_out. */
export function checkDictionary(d: Dictionary, where = "dictionary"): void {
  const want: [string, HostF32 | undefined, number[]][] = [
    ["W_enc", d.W_enc, [d.dIn, d.dSae]],
    ["W_dec", d.W_dec, [d.dSae, d.dOut]],
    ["b_enc", d.b_enc, [d.dSae]],
    ["b_dec", d.b_dec, [d.dOut]],
  ];
  if (d.threshold || d.activation.type === "jumprelu") want.push(["threshold", d.threshold, [d.dSae]]);
  if (d.b_in) want.push(["b_in", d.b_in, [d.dIn]]);
  for (const [name, t, shape] of want) {
    if (!t) throw new RangeError(`${where}: ${name} is missing (a ${d.activation.type} dictionary needs it)`);
    if (t.shape.join() !== shape.join()) throw new RangeError(`${where}: ${name} has shape [${t.shape}], expected [${shape}]`);
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new RangeError(`${where}: ${name} holds ${t.data.length} numbers for shape [${shape}]`);
  }
  if (d.kind === "sae" && d.dIn !== d.dOut) throw new RangeError(`${where}: an SAE has d_in = d_out, got ${d.dIn} and ${d.dOut}`);
  if (d.activation.type === "topk" && !(Number.isInteger(d.activation.k) && d.activation.k >= 1 && d.activation.k <= d.dSae)) {
    throw new RangeError(`${where}: TopK k must be an integer in 1…${d.dSae}, got ${d.activation.k}`);
  }
}
