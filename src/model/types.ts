/**
 * The model contract every intervention codes against (DESIGN.md "Models and hook points").
 *
 * A model is data plus pure functions. Parameters use family-independent names (below), so an
 * editor that changes "the MLP output projection of layer l" works on every architecture; the
 * loader maps each family's Hugging Face tensor names onto them (and back, for saving).
 *
 * Parameter names and shapes (matrices are [d_in, d_out]: activations multiply on the left, x @ W):
 *   embed.W_E                [vocab, d_model]
 *   pos_embed.W_pos          [n_ctx, d_model]                 learned positions (gpt2)
 *   blocks.{l}.ln1.w / .b    [d_model]                        .b absent for RMSNorm
 *   blocks.{l}.ln2.w / .b    [d_model]                        absent for GPT-J (one norm per block)
 *   blocks.{l}.ln1_post.w, blocks.{l}.ln2_post.w             Gemma-2's post-attention / post-MLP norms
 *   blocks.{l}.attn.W_Q      [d_model, n_heads * d_head]      .b_Q [n_heads * d_head]
 *   blocks.{l}.attn.W_K/W_V  [d_model, n_kv_heads * d_head]   .b_K/.b_V
 *   blocks.{l}.attn.W_O      [n_heads * d_head, d_model]      .b_O [d_model]
 *   blocks.{l}.mlp.W_in      [d_model, d_mlp]                 .b_in   (the "up" projection)
 *   blocks.{l}.mlp.W_gate    [d_model, d_mlp]                 gated MLPs (SwiGLU / GeGLU)
 *   blocks.{l}.mlp.W_out     [d_mlp, d_model]                 .b_out  (ROME/MEMIT edit this; its
 *                                                             input is blocks.{l}.mlp.hook_post)
 *   ln_final.w / .b          [d_model]
 *   unembed.W_U              [d_model, vocab]                 absent when embeddings are tied
 *   unembed.b_U              [vocab]
 */
import type { numpy as np } from "@jax-js/jax";
import type { Tokenizer } from "../io/tokenizer/types.js";

export type Arr = np.Array;
export type Params = Record<string, Arr>;

export type ModelType = "gpt2" | "gpt_neox" | "gptj" | "llama" | "mistral" | "qwen2" | "gemma2";

/** Architecture description, normalised from config.json by model/config.ts. */
export interface ModelConfig {
  modelType: ModelType;
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  nKVHeads: number;
  dHead: number;
  dMlp: number;
  /** Maximum context length (n_positions / max_position_embeddings). */
  nCtx: number;
  norm: "layernorm" | "rmsnorm" | "gemma_rmsnorm";
  normEps: number;
  /** MLP activation, named as in Hugging Face's ACT2FN (gelu_new, gelu, silu, gelu_pytorch_tanh, …). */
  act: string;
  gatedMlp: boolean;
  positional: "learned" | "rotary";
  /** Rotary: how many dimensions of each head rotate (Pythia's rotary_pct, GPT-J's rotary_dim). */
  rotaryDim: number;
  rotaryBase: number;
  /** GPT-J rotates interleaved pairs (rotate_every_two); NeoX/Llama rotate halves. */
  rotaryInterleaved: boolean;
  /** rope_scaling from config.json (linear, dynamic, llama3, …), as given. */
  ropeScaling?: Record<string, unknown>;
  /** Attention and MLP both read the block input (GPT-NeoX use_parallel_residual, GPT-J). */
  parallelResidual: boolean;
  tiedEmbeddings: boolean;
  /** Gemma-2: sliding window on alternating layers, soft-capping, query scaling, embed scaling. */
  slidingWindow?: number;
  /**
   * Which layers use `slidingWindow` (one flag per layer); absent means every layer. Plain data, so
   * a ModelConfig compares, hashes and serialises as JSON.
   */
  slidingWindowLayers?: boolean[];
  attnLogitSoftcap?: number;
  finalLogitSoftcap?: number;
  /** Attention scores are q·k / sqrt(this); defaults to dHead. */
  queryPreAttnScalar?: number;
  /** Embeddings multiplied by this (Gemma: sqrt(d_model)). */
  embedScale?: number;
  /**
   * Which optional bias vectors the checkpoint has (forward uses a bias only when its parameter is
   * present; this field tells randomParams / paramSpecs / loaders which to expect). Defaults: q/k/v,
   * o and MLP biases present for LayerNorm families and absent for RMSNorm families; b_U absent.
   * E.g. GPT-J {qkv:false, o:false, mlp:true, unembed:true}; Qwen2 {qkv:true}.
   */
  biases?: { qkv?: boolean; o?: boolean; mlp?: boolean; unembed?: boolean };
  /** GPT-J: one norm per block (ln1) feeding attention and MLP; blocks.{l}.ln2.* are absent. */
  sharedBlockNorm?: boolean;
  /** Gemma-2: norms after attention and after the MLP (blocks.{l}.ln1_post.w / ln2_post.w). */
  postNorms?: boolean;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
  /** The original config.json, for anything not normalised above. */
  raw: Record<string, unknown>;
}

/**
 * A hook reads or replaces one activation. It receives the activation (owned: consume it or
 * return it) and returns the activation the forward pass continues with. Hooks are plain functions
 * inside a pure forward, so `grad` flows through them.
 */
export type Hook = (x: Arr, ctx: HookContext) => Arr;

export interface HookContext {
  /** Hook point name, e.g. "blocks.3.hook_resid_post". */
  name: string;
  /** Layer index for block hook points. */
  layer?: number;
  /** Absolute position of each token of this call (offset by the KV cache length when decoding). */
  positions: number[];
  /**
   * Number of prompt positions, in the coordinates of `positions`, when the caller knows it:
   * generate() sets it to the padded prompt length (left padding ends every prompt there), so a
   * hook can act on generated positions only (patch.ts "after-prompt").
   */
  promptLength?: number;
  /**
   * Per batch row, the index (along this call's position axis) of the token whose activation
   * retrieval-based modules read as the input's key — GRACE's codebook query, WISE's router,
   * ELDER's deferral: the last token of the input (EasyEdit's GRACE: key_id = the last prompt
   * token; generation: each new token). Teacher-forced scoring (eval/logprobs.ts) sets it to the
   * last context token of each row, so the continuation scored after it is not part of the key;
   * otherwise forward() fills in each row's last real token (attention mask).
   */
  queryPositions: number[];
}

/** Which activations to return: a list of hook point names, or a predicate over names. */
export type CacheSpec = readonly string[] | ((name: string) => boolean);

/**
 * Keys/values of earlier positions, per layer ([batch, n_kv_heads, past, d_head], or
 * [batch, n_kv_heads, capacity, d_head] when `padTo` is set).
 */
export interface KVCache {
  layers: { k: Arr; v: Arr }[];
  /** Number of cached positions. */
  length: number;
  /** The attention mask of the cached positions ([batch][past]), for left-padded batches. */
  mask: number[][];
  /**
   * Set by forward's `kvPadTo`: the arrays have room for later positions (their position axis is a
   * multiple of padTo, ≥ length; entries from `length` on are zeros and masked out). A forward
   * continuing from such a cache writes its keys/values into the room (growing it by padTo when
   * full), so the arrays keep one shape from step to step and a compiled decoding step is reused.
   */
  padTo?: number;
}

export interface ForwardOptions {
  cache?: CacheSpec;
  hooks?: Record<string, Hook>;
  /** [batch][pos]: 1 for real tokens, 0 for padding. Positions are counted over real tokens only. */
  attentionMask?: number[][];
  /** Continue from these cached keys/values (consumed); the result holds the extended cache. */
  kv?: KVCache;
  /** Return a KV cache for further decoding. */
  returnKV?: boolean;
  /**
   * Return the KV cache with room for later positions, its position axis rounded up to a multiple
   * of this (KVCache.padTo; a cache passed in `kv` that has padTo keeps it). Why: each step of
   * unpadded decoding has new shapes, so it runs eagerly (~240 small kernels for GPT-2 small,
   * overhead-bound); with a padded cache, unhooked single-token steps run through one compiled
   * program per capacity (model.ts, jit). Results equal the unpadded cache's to float rounding.
   */
  kvPadTo?: number;
  /** Stop after this hook point has been computed (logits are then not computed). */
  stopAt?: string;
  /**
   * Begin the pass at block `layer` with `resid` ([batch, pos, d_model], consumed) as its
   * hook_resid_pre, in place of the embedding and blocks 0…layer−1, whose hook points are not
   * reached; `layer` = n_layers leaves only the final norm and the unembedding. `tokens` and
   * `attentionMask` still give the shape, the positions and the mask. Why: passes that differ only
   * after some layer (a vector optimised there, as ROME's v* and MEMIT's z*) compute the earlier
   * blocks once. With `kv` (no room: padTo unset; its `layers` hold blocks layer… only), the pass
   * continues those cached positions. Why: where only later positions change (z* adds its vector at the
   * subject's last token), the earlier positions of the blocks after `layer` are computed once too.
   * It returns no KV cache (returnKV / kvPadTo are refused).
   */
  startFrom?: { layer: number; resid: Arr };
  /**
   * Return the logits at the padded vocabulary width: [batch, pos, paddedVocab(vocab)] (the next
   * multiple of 64, model/unembed.ts), the padding columns set to PAD_LOGIT (−1e9) and the real
   * columns 0…vocab−1 unchanged. Softmax, logsumexp, argmax and gathers of real ids give the same
   * results as on the unpadded logits. Why: the unembedding runs padded anyway (a matmul against
   * GPT-2's 50257 columns is ~10× slower than against 50304), and cutting the padding off costs
   * little forward but makes a backward pass through the logits several times slower; losses and
   * scores computed from logits should ask for this. Ignored when the vocabulary needs no padding.
   */
  paddedLogits?: boolean;
  /**
   * Which positions get logits: "all" (default), "last" ([batch, 1, vocab]: only the last
   * column, e.g. for generation from left-padded prompts), or positions per row (the same number
   * P in every row, repeats allowed): [batch, P, vocab], row b's p-th column being its position
   * `logitsPositions[b][p]`. Hook points and the KV cache still cover every position; only the
   * final unembedding is skipped for the others. Why the list: a loss that reads a few positions
   * of each row (ROME's v*, MEMIT's z*) pays the unembedding, and its backward pass, for those
   * only; the unembedding is most of a short pass through a model's last layers (GPT-2: 38.6M
   * multiply-adds per position against 7.1M per block).
   */
  logitsPositions?: "all" | "last" | number[][];
  /** Passed to hooks as HookContext.promptLength. */
  promptLength?: number;
  /** Passed to hooks as HookContext.queryPositions (one per row); default: each row's last real token. */
  queryPositions?: number[];
}

export interface ForwardResult {
  /**
   * [batch, pos, vocab] float32 (pos = 1 with logitsPositions "last"; vocab padded with
   * paddedLogits); undefined when `stopAt` ended the pass early.
   */
  logits?: Arr;
  /** Requested activations by hook point name (owned by the caller). */
  cache: Record<string, Arr>;
  kv?: KVCache;
}

export interface Model {
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  /** Owned by the model: borrow (`.ref`) to pass them anywhere. */
  readonly params: Params;
  /** tokens: [batch][pos] ids. Does not consume `params`. */
  forward(tokens: number[][], options?: ForwardOptions): ForwardResult;
  /** The same computation with explicit parameters (consumed), for `grad` w.r.t. weights. */
  apply(params: Params, tokens: number[][], options?: ForwardOptions): ForwardResult;
  /**
   * All hook point names of this model, in execution order (model/hook-names.ts): the DESIGN.md
   * points plus attn.hook_rot_q/hook_rot_k (rotary models, after rotation), attn.hook_attn_scores
   * (masked scores before softmax), mlp.hook_pre_linear (gated MLPs) and ln2.hook_normalized;
   * hook_resid_mid exists only for sequential (non-parallel) blocks.
   */
  hookNames(): string[];
  /**
   * A model with other parameters (same config and tokenizer); the original is untouched. `params`
   * (consumed) may name only the parameters that change; the rest are shared by reference.
   */
  withParams(params: Params): Model;
  dispose(): void;
}
