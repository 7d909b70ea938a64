/**
 * GRACE (Hartvigsen et al. 2023, "Aging with GRACE: Lifelong Model Editing with Discrete Key-Value
 * Adaptors", NeurIPS) as a "memory" editor: it keeps a codebook at one layer's W_out
 * (model/modules/grace.ts computes what the codebook does in a forward pass) and returns the whole
 * codebook as one module patch for the start model at every call.
 *
 * One edit (prompt p, target y), as EasyEdit easyeditor/models/grace/GRACE.py (GRACE.edit and
 * GRACEAdapter.forward at iter 0) and Thartvigsen/GRACE grace/editors/grace.py:
 *   tokens = encode(p + " " + y) with special tokens (score.ts targetRequest, EasyEdit's
 *   tokenize: f"{prompt} {label}", labels −100 on the prompt); query h = W_out input at the last
 *   prompt token (key_id = #masked labels − 1).
 *   Codebook update (only at the first iteration), with ε₀ = eps and d, i = min_i ‖h − K_i‖₂:
 *     empty codebook              → add (h, v₀, ε₀, y)
 *     d > ε₀ + ε_i                → add (h, v₀, ε₀, y)                      (no key near)
 *     y ≠ label_i                 → add, then ε_i = d/2 − 1e-5, ε_new = d/2  (split)
 *     y = label_i and d > ε_i     → coverage: ε_i = d
 *                                    moving_average: K_i = ½K_i + ½h, ε_i = d     (expand)
 *     otherwise                   → nothing (h is already covered by its own label)
 *   v₀: cold = torch.rand(d_model) (uniform [0, 1)), warm = the layer's own output at h's token.
 *   Value training: n_iter steps of Adam(edit_lr) on the mean NLL of y's tokens (HF's causal-LM
 *   loss) through the model with the codebook applied; only the matched entry's value gets a
 *   gradient (EasyEdit's Adam covers the whole values matrix, but the other rows' gradients are 0,
 *   so Adam leaves them unchanged: here the one row is optimised alone, identically).
 * Labels are compared as target strings. EasyEdit compares `labels.float().mean()` (token ids with
 * −100 on the prompt, so equal targets after prompts of different lengths count as different) and
 * prepends new labels (`[edit_label] + key_labels`), misaligning labels and keys; we follow the
 * original repository (appended labels) and the paper ("if the labels match").
 * val_train "adv" (perturbed values) is not implemented: sgd only.
 */
import { numpy as np, valueAndGrad } from "@jax-js/jax";
import { ConfigError } from "../errors.js";
import { tokenLogprobs } from "../eval/logprobs.js";
import { targetRequest } from "../eval/editing/score.js";
import { modelHash } from "../model/hash.js";
import { GRACE_REPLACEMENTS, checkCodebook, emptyCodebook, graceSite, replacementMask, writeValues, type GraceCodebook, type GraceReplacement } from "../model/modules/grace.js";
import { flattenPatch, type ModulePatch, type Patch } from "../model/patch.js";
import type { Arr, Model, ModelConfig } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { deriveSeed, makeRng } from "../util/rng.js";
import { Adam } from "./adam.js";
import { fill } from "./tokens.js";
import type { EditContext, EditorDefinition, EditRequest, Editor } from "./types.js";
import { nextMacrotask } from "../util/macrotask.js";

export interface GraceHparams {
  /** [l]: the block whose mlp.W_out the codebook wraps (EasyEdit: inner_params). */
  layers: number[];
  editLr: number;
  nIter: number;
  /** ε₀, the initial radius of a new key. */
  eps: number;
  distFn: "euc";
  valInit: "cold" | "warm";
  valTrain: "sgd";
  replacement: GraceReplacement;
  epsExpand: "coverage" | "moving_average";
}

const ENUMS = {
  dist_fn: ["euc"],
  val_init: ["cold", "warm"],
  val_train: ["sgd"],
  replacement: GRACE_REPLACEMENTS,
  eps_expand: ["coverage", "moving_average"],
} as const;

const bad = (field: string, msg: string, fix: string) => new ConfigError("HPARAMS_VALUE", `GRACE ${field}: ${msg}`, { field, fix });

/** Checks every field; a ConfigError naming the field and the fix. */
export function checkGraceHparams(hp: GraceHparams, config?: ModelConfig): void {
  if (!Array.isArray(hp.layers) || hp.layers.length !== 1 || !Number.isInteger(hp.layers[0])) throw bad("layers", `GRACE edits one layer, got ${JSON.stringify(hp.layers)}`, "give layers: [l]");
  if (config && !(hp.layers[0]! >= 0 && hp.layers[0]! < config.nLayers)) throw bad("layers", `layer ${hp.layers[0]} does not exist (the model has ${config.nLayers} layers)`, `choose l in 0…${config.nLayers - 1}`);
  if (!(Number.isFinite(hp.editLr) && hp.editLr > 0)) throw bad("edit_lr", `must be a positive number, got ${hp.editLr}`, "e.g. edit_lr: 1.0");
  if (!(Number.isInteger(hp.nIter) && hp.nIter >= 0)) throw bad("n_iter", `must be a non-negative integer, got ${hp.nIter}`, "e.g. n_iter: 50");
  if (!(Number.isFinite(hp.eps) && hp.eps > 0)) throw bad("eps", `must be a positive number, got ${hp.eps}`, "e.g. eps: 1.0");
  if (hp.distFn !== "euc") throw bad("dist_fn", `"${hp.distFn}" is not implemented (only Euclidean distance, "euc", as EasyEdit's GRACE computes)`, 'use dist_fn: euc');
  if (hp.valTrain !== "sgd") throw bad("val_train", `"${hp.valTrain}" is not implemented (perturbed "adv" training is not); only "sgd"`, "use val_train: sgd");
  const enums: [keyof typeof ENUMS, string][] = [["val_init", hp.valInit], ["replacement", hp.replacement], ["eps_expand", hp.epsExpand]];
  for (const [key, v] of enums) {
    if (!(ENUMS[key] as readonly string[]).includes(v)) throw bad(key, `"${v}" is not one of ${ENUMS[key].join(", ")}`, `use one of: ${ENUMS[key].join(", ")}`);
  }
}

/**
 * Defaults. EasyEdit's GRACE files (hparams/GRACE/*.yaml) use edit_lr 1.0, n_iter 50 (Llama,
 * Qwen; 200 for GPT-2 XL / GPT-J), eps 1.0, cold values, replace_last, coverage, and a late layer
 * (Llama-2-7B 27 of 32). Measured on models/factworld (4 layers, d_mlp 512) with the first 100
 * distinct-subject zsRE cases, hook_post at the last prompt token:
 *   layer  ‖key‖ median  nearest other key (min / median)  own paraphrase (min / median)
 *   2      12.8          6.0 / 9.8                         4.1 / 10.2
 *   3      67.4          40.2 / 68.4                       16.0 / 46.2
 * so ε₀ = 1 never makes two edits' keys conflict (every edit adds a key) and no paraphrase falls
 * inside a key. Layer 3 (the default here, 0.85·n_layers as EasyEdit's Llama file) with these
 * settings, sequential after-all: reliability 100%, generalization 0%, locality 78% (100% on the
 * 78 cases whose locality prompt is not itself one of the edited prompts); it runs one block
 * under `grad` (blocks 0–2 compiled), about half the time per step of layer 2.
 */
export function graceDefaults(config: ModelConfig): GraceHparams {
  return {
    // ≈ EasyEdit's depth (Llama-2-7B: 27 of 32); the fact-world model's last layer (3 of 4).
    layers: [Math.min(config.nLayers - 1, Math.floor(0.85 * config.nLayers))],
    editLr: 1.0,
    nIter: 50,
    eps: 1.0,
    distFn: "euc",
    valInit: "cold",
    valTrain: "sgd",
    replacement: "replace_last",
    epsExpand: "coverage",
  };
}

/** What happened to the codebook for one edit. */
export type GraceAction = "add" | "split" | "expand" | "covered";

/** Squared distances from `q` to every key (double precision over float32 entries). */
function distances(keys: Float32Array, n: number, q: Float32Array): number[] {
  const d = q.length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = q[j]! - keys[i * d + j]!;
      s += t * t;
    }
    out.push(Math.sqrt(s));
  }
  return out;
}

/** The nearest key (first on ties, as torch's min) and its distance; undefined for an empty codebook. */
export function nearest(c: GraceCodebook, q: Float32Array): { index: number; dist: number } | undefined {
  const ds = distances(c.keys.data, c.labels.length, q);
  if (!ds.length) return undefined;
  let index = 0;
  for (let i = 1; i < ds.length; i++) if (ds[i]! < ds[index]!) index = i;
  return { index, dist: ds[index]! };
}

function append(c: GraceCodebook, key: Float32Array, value: Float32Array, eps: number, label: string): GraceCodebook {
  const cat = (a: Float32Array, b: Float32Array) => {
    const o = new Float32Array(a.length + b.length);
    o.set(a);
    o.set(b, a.length);
    return o;
  };
  const n = c.labels.length + 1;
  return {
    ...c,
    keys: { shape: [n, key.length], data: cat(c.keys.data, key) },
    values: { shape: [n, value.length], data: cat(c.values.data, value) },
    epsilons: { shape: [n], data: cat(c.epsilons.data, Float32Array.of(eps)) },
    labels: [...c.labels, label],
  };
}

/**
 * The codebook after GRACE's key rules for query `q` with target `label` (a new codebook; `c` is
 * unchanged). `value` is v₀ for a new entry.
 */
export function updateCodebook(c: GraceCodebook, q: Float32Array, label: string, value: Float32Array, hp: Pick<GraceHparams, "eps" | "epsExpand">): { codebook: GraceCodebook; action: GraceAction } {
  const near = nearest(c, q);
  if (!near || near.dist > hp.eps + c.epsilons.data[near.index]!) return { codebook: append(c, q, value, hp.eps, label), action: "add" };
  const { index, dist } = near;
  if (c.labels[index] !== label) {
    const out = append(c, q, value, hp.eps, label);
    out.epsilons.data[index] = dist / 2 - 1e-5;
    out.epsilons.data[out.labels.length - 1] = dist / 2;
    return { codebook: out, action: "split" };
  }
  if (!(dist > c.epsilons.data[index]!)) return { codebook: c, action: "covered" };
  const epsilons = { shape: c.epsilons.shape, data: c.epsilons.data.slice() };
  epsilons.data[index] = dist;
  if (hp.epsExpand === "coverage") return { codebook: { ...c, epsilons }, action: "expand" };
  const keys = { shape: c.keys.shape, data: c.keys.data.slice() };
  const d = q.length;
  for (let j = 0; j < d; j++) keys.data[index * d + j] = 0.5 * c.keys.data[index * d + j]! + 0.5 * q[j]!;
  return { codebook: { ...c, keys, epsilons }, action: "expand" };
}

/** One edit's tokens: prompt + target teacher-forced, the query token and the scored positions. */
function editTokens(model: Model, r: EditRequest): { tokens: number[]; query: number; targets: number[] } {
  const { context, continuation } = targetRequest(model.tokenizer, fill(r.prompt, r.subject), r.targetNew);
  return { tokens: [...context, ...continuation.slice(0, -1)], query: context.length - 1, targets: continuation };
}

/** The memory a GRACE editor carries between calls. */
export class GraceState {
  codebook: GraceCodebook | undefined;
  /** Edits made so far (each edit's cold value is seeded by its index, so a resumed stream matches). */
  edits = 0;
  /** Per edit: what the key rules did (diagnostics). */
  actions: GraceAction[] = [];

  reset(): void {
    this.codebook = undefined;
    this.edits = 0;
    this.actions = [];
  }

  export(): unknown {
    return { version: 1, edits: this.edits, actions: this.actions, entries: this.codebook?.labels.length ?? 0 };
  }

  import(state: unknown, memory?: Patch): void {
    const s = state as { version?: number; edits?: number; actions?: GraceAction[]; entries?: number } | undefined;
    if (s !== undefined && (s?.version !== 1 || !Number.isInteger(s.edits))) throw new RangeError("GRACE state: expected { version: 1, edits, … } as exportState() writes it");
    const module = memory ? flattenPatch(memory).find((p): p is ModulePatch => p.type === "module" && p.module.kind === "grace")?.module : undefined;
    if (memory && !module) throw new RangeError("GRACE importState: the memory patch holds no GRACE codebook (a module patch of kind \"grace\")");
    const codebook = module as GraceCodebook | undefined;
    if (codebook) checkCodebook(codebook);
    if (s && (codebook?.labels.length ?? 0) !== s.entries) throw new RangeError(`GRACE importState: the state records ${s.entries} codebook entries, the memory patch holds ${codebook?.labels.length ?? 0}`);
    this.codebook = codebook;
    this.edits = s?.edits ?? codebook?.labels.length ?? 0;
    this.actions = s?.actions ? [...s.actions] : [];
  }
}

const hashes = new WeakMap<Model, Promise<string>>();

/**
 * Edits `requests` one after another into `state`'s codebook (created for `model` if empty) and
 * returns the whole codebook as a module patch for `model` (the stream's start model).
 */
export async function graceEdit(model: Model, requests: EditRequest[], hp: GraceHparams, context: EditContext = {}, state = new GraceState()): Promise<ModulePatch> {
  checkGraceHparams(hp, model.config);
  const layer = hp.layers[0]!;
  const site = graceSite(model, layer);
  const { dMlp, dModel } = model.config;
  let c = state.codebook ?? emptyCodebook(layer, dMlp, dModel, hp.replacement);
  if (c.layer !== layer || c.replacement !== hp.replacement) {
    throw new ConfigError("HPARAMS_VALUE", `GRACE: the codebook so far is at layer ${c.layer} with ${c.replacement}; these hparams ask for layer ${layer} with ${hp.replacement}`, { field: "layers", fix: "keep layers and replacement fixed through a stream, or reset() the editor" });
  }
  checkCodebook(c, dMlp, dModel);
  for (const [k, r] of requests.entries()) {
    context.onProgress?.("grace", k, requests.length);
    const { tokens, query, targets } = editTokens(model, r);
    // Query and the layer's own output at the query token, from the start model: the codebook sits
    // after hook_post at this layer, so it cannot change its own query.
    const { cache, logits } = model.forward([tokens], { cache: [site.input, site.output], queryPositions: [query], stopAt: site.output });
    logits?.dispose();
    const h = (await readF32(cache[site.input]!)).slice(query * dMlp, (query + 1) * dMlp);
    const own = (await readF32(cache[site.output]!)).slice(query * dModel, (query + 1) * dModel);
    const rng = makeRng(deriveSeed(context.seed ?? 0, "grace", state.edits));
    const v0 = hp.valInit === "warm" ? own : Float32Array.from({ length: dModel }, () => rng());
    const { codebook, action } = updateCodebook(c, h, r.targetNew, v0, hp);
    c = codebook;
    // The entry the edit prompt now retrieves (GRACEAdapter.forward after the update); its value is trained.
    const hit = nearest(c, h)!;
    if (hit.dist <= c.epsilons.data[hit.index]!) c = await trainValue(model, c, hit.index, tokens, query, targets, hp, site.output);
    state.edits++;
    state.actions.push(action);
  }
  context.onProgress?.("grace", requests.length, requests.length);
  state.codebook = c;
  const hash = hashes.get(model) ?? modelHash(model);
  hashes.set(model, hash);
  const info = { method: "grace", config: hp, seed: context.seed, createdAt: new Date().toISOString(), baseModelHash: await hash, edits: state.edits, entries: c.labels.length };
  return { type: "module", info, module: c };
}

/**
 * n_iter Adam steps on entry `j`'s value: loss = mean over the target tokens of −log p, with the
 * layer output replaced by the value at the positions the replacement rule writes (the edit
 * prompt matches entry j, so the codebook's effect on this row is exactly that). Returns a new
 * codebook (the old one is unchanged: patches already returned keep their values).
 */
async function trainValue(model: Model, c: GraceCodebook, j: number, tokens: number[], query: number, targets: number[], hp: GraceHparams, output: string): Promise<GraceCodebook> {
  const d = model.config.dModel;
  const T = tokens.length;
  const v = c.values.data.slice(j * d, (j + 1) * d);
  if (hp.nIter === 0) return c;
  // Logits only at the target positions, query … query + |targets| − 1 (the loss reads no others).
  const positions = [targets.map((_, k) => query + k)];
  const tgtArr = np.array(Int32Array.from(targets), { dtype: np.int32 }).reshape([1, targets.length]);
  const wArr = np.full([1, targets.length], 1 / targets.length);
  const where = replacementMask(hp.replacement, [query], T);
  const loss = (value: Arr): Arr => {
    const { logits, cache } = model.forward([tokens], { paddedLogits: true, logitsPositions: positions, queryPositions: [query], hooks: { [output]: (y) => writeValues(y, value.ref, where.ref) } });
    disposeTree(cache);
    const { logprobs, greedy } = tokenLogprobs(logits!, tgtArr.ref);
    greedy.dispose();
    value.dispose();
    return logprobs.mul(wArr.ref).sum().mul(-1);
  };
  const vg = valueAndGrad(loss);
  const adam = new Adam(d, hp.editLr);
  try {
    for (let i = 0; i < hp.nIter; i++) {
      await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
      const [value, grad] = vg(np.array(v).reshape([1, d]));
      value.dispose();
      adam.step(v, await readF32(grad as Arr));
    }
  } finally {
    tgtArr.dispose();
    wArr.dispose();
    where.dispose();
  }
  const values = { shape: c.values.shape, data: c.values.data.slice() };
  values.data.set(v, j * d);
  return { ...c, values };
}

/** A GRACE editor instance: its own codebook, kept across calls ("memory"). */
export function createGraceEditor(): Editor<GraceHparams> & Required<Pick<Editor<GraceHparams>, "reset" | "exportState" | "importState">> & { state: GraceState } {
  const state = new GraceState();
  return {
    name: "grace",
    sequential: "memory",
    state,
    defaults: graceDefaults,
    edit: (model, requests, hp, ctx) => graceEdit(model, requests, hp, ctx, state),
    reset: () => state.reset(),
    exportState: () => state.export(),
    importState: (saved, memory) => state.import(saved, memory),
  };
}

/** The registry entry (edit/definitions.ts): EasyEdit's hparams/GRACE/*.yaml key names. */
export const graceEditor: EditorDefinition<GraceHparams> = {
  name: "grace",
  keys: {
    layers: { field: "layers", kind: "int[]" },
    edit_lr: { field: "editLr", kind: "number" },
    n_iter: { field: "nIter", kind: "int" },
    eps: { field: "eps", kind: "number" },
    dist_fn: { field: "distFn", kind: "string" },
    val_init: { field: "valInit", kind: "string" },
    val_train: { field: "valTrain", kind: "string" },
    replacement: { field: "replacement", kind: "string" },
    eps_expand: { field: "epsExpand", kind: "string" },
  },
  defaults: graceDefaults,
  create: createGraceEditor,
};
