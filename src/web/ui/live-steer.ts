/**
 * The steering view's work without the DOM (browser-safe, tested in Node): fit CAA vectors from a
 * few A/B pairs (the served model's CAA generate file, or pairs the user typed), or read them from
 * a file (`scalpel steer --save-patch`'s patch, or a .npy array), and generate unsteered and
 * steered continuations side by side, as the CLI demo (cli/demo/steer.ts) does.
 */
import { decodeNpy } from "../../io/npy.js";
import { generate } from "../../model/generate.js";
import { patchFromBytes } from "../../model/patch-bytes.js";
import { flattenPatch, type ActivationPatch } from "../../model/patch.js";
import type { Model } from "../../model/types.js";
import { parseABItems, type ABFormat } from "../../steer/ab-data.js";
import { residHook, steeringPatch, steerModel } from "../../steer/apply.js";
import { fitContrastVectors, memorySource } from "../../steer/fit.js";

/** Steering vectors by layer (each steers blocks.L.hook_resid_post), and where they came from. */
export interface LayerVectors {
  vectors: Record<number, Float32Array>;
  /** How they were made ("caa", or a saved patch's method), recorded in the steering patch. */
  method: string;
  source: string;
  /** The α (and layer) a saved steering patch was made with, to pre-set the controls. */
  alpha?: number;
  layer?: number;
}

/** The CAA generate files among the served model's files: behaviour → path under /model/. */
export function caaBehaviours(files: readonly string[]): { behaviour: string; generate: string; openEnded?: string }[] {
  const out = [];
  for (const f of files) {
    const m = /^data\/caa\/generate\/([^/]+)\/generate_dataset\.json$/.exec(f);
    if (!m) continue;
    const openEnded = `data/caa/test/${m[1]}/test_dataset_open_ended.json`;
    out.push({ behaviour: m[1]!, generate: f, ...(files.includes(openEnded) ? { openEnded } : {}) });
  }
  return out;
}

/** How many A/B pairs the view pre-fills: enough for a clear mean difference, few enough to read and fit in seconds in a page. */
export const PREFILL_PAIRS = 16;

/** CAA vectors at every layer from A/B items (CAA's JSON: [{question, answer_matching_behavior, answer_not_matching_behavior}]). */
export async function fitCAAVectors(model: Model, itemsJson: unknown, format: ABFormat, label = "A/B pairs"): Promise<LayerVectors> {
  const items = parseABItems(itemsJson, label);
  if (items.length === 0) throw new Error("give at least one A/B pair");
  const layers = Array.from({ length: model.config.nLayers }, (_, l) => l);
  // One pass collects every layer, so the layer select needs no refit.
  const vectors = await fitContrastVectors(model, items, layers, "caa", memorySource(model), label, format);
  return { vectors, method: "caa", source: `CAA from ${items.length} A/B pairs` };
}

/**
 * Vectors read from a file the user picked: a steering patch (.safetensors, what
 * `scalpel steer --save-patch` and the lab's download write), or a .npy array of [d_model] (steers
 * every layer the select offers) or [n_layers, d_model].
 */
export async function vectorsFromFile(bytes: Uint8Array, name: string, model: Model): Promise<LayerVectors> {
  return name.endsWith(".npy") ? vectorsFromNpy(bytes, name, model) : vectorsFromPatch(bytes, name, model);
}

async function vectorsFromPatch(bytes: Uint8Array, name: string, model: Model): Promise<LayerVectors> {
  const patch = await patchFromBytes(bytes, name);
  const additions = flattenPatch(patch).flatMap((p) => (p.type === "activations" ? p.additions : []));
  if (additions.length === 0) throw new Error(`${name}: the patch holds no steering vector (it is a ${patch.type} patch)`);
  const layerOf = (hook: string) => {
    const m = /^blocks\.(\d+)\.hook_resid_post$/.exec(hook);
    if (!m) throw new Error(`${name}: the addition at ${hook} is not a residual-stream steering vector (blocks.L.hook_resid_post)`);
    return Number(m[1]);
  };
  const vectors: Record<number, Float32Array> = {};
  for (const a of additions) vectors[layerOf(a.hook)] = checkWidth(a.vector, model, name);
  return { vectors, method: patch.info.method, source: name, alpha: additions[0]!.alpha, layer: layerOf(additions[0]!.hook) };
}

function vectorsFromNpy(bytes: Uint8Array, name: string, model: Model): LayerVectors {
  const t = decodeNpy(bytes, { file: name });
  const data = Float32Array.from(t.data as ArrayLike<number>);
  const { nLayers, dModel } = model.config;
  const vectors: Record<number, Float32Array> = {};
  if (t.shape.length === 1) for (let l = 0; l < nLayers; l++) vectors[l] = checkWidth(data, model, name);
  else if (t.shape.length === 2 && t.shape[0] === nLayers && t.shape[1] === dModel) for (let l = 0; l < nLayers; l++) vectors[l] = data.slice(l * dModel, (l + 1) * dModel);
  else throw new Error(`${name}: expected an array of shape [${dModel}] or [${nLayers}, ${dModel}], got [${t.shape}]`);
  return { vectors, method: "vector", source: name };
}

function checkWidth(v: Float32Array, model: Model, name: string): Float32Array {
  if (v.length !== model.config.dModel) throw new Error(`${name}: the vector has ${v.length} entries, the model's residual stream ${model.config.dModel}`);
  return v;
}

/** The steering patch for one layer's vector at strength α (CAA steers from the last prompt token on). */
export function layerSteering(v: LayerVectors, layer: number, alpha: number): ActivationPatch {
  const vector = v.vectors[layer];
  if (!vector) throw new Error(`no steering vector for layer ${layer}`);
  return steeringPatch({ vectors: { [residHook(layer)]: vector }, alpha, info: { method: v.method, description: v.source, config: { layer, alpha } } });
}

export interface SideBySide {
  plain: string;
  steered: string;
}

/**
 * Greedy continuations of `prompt` without and with `patch`; `onText` gets both texts as they grow
 * (streaming), the unsteered one first, then the steered one.
 */
export async function generateSideBySide(
  model: Model,
  prompt: string,
  patch: ActivationPatch,
  options: { maxNewTokens: number; onText?: (which: keyof SideBySide, text: string) => void },
): Promise<SideBySide> {
  const run = async (m: Model, which: keyof SideBySide) => {
    const onStep = options.onText && ((ids: readonly (readonly number[])[]) => options.onText!(which, m.tokenizer.decode(ids[0]!, { skipSpecialTokens: true })));
    return (await generate(m, [prompt], { maxNewTokens: options.maxNewTokens, onStep })).texts[0]!;
  };
  const plain = await run(model, "plain");
  const steered = await run(steerModel(model, patch), "steered");
  return { plain, steered };
}
