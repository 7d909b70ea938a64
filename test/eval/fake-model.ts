/**
 * A tiny deterministic Model for testing generation and scoring without the real forward.
 *
 * Its logits depend on the whole (unpadded) context and on positions counted over real tokens
 * only, so a KV cache that drops a token, a mask that leaks padding or positions shifted by
 * padding all change the output. The "KV cache" stores the token ids themselves.
 *
 * Tokenizer: characters, plus GPT-2-like merged tokens " a".." z" (a space glued to the next
 * letter), so encode(context + continuation) ≠ encode(context) + encode(continuation) when the
 * context ends in a space — the case lm-evaluation-harness's _encode_pair handles.
 */
import { numpy as np } from "@jax-js/jax";
import { Rng } from "../../src/util/rng.js";
import type { Encoding, Tokenizer } from "../../src/io/tokenizer/types.js";
import type { ForwardOptions, ForwardResult, KVCache, Model, ModelConfig, Params } from "../../src/model/types.js";

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const VOCAB = [...LETTERS, ...[...LETTERS].map((c) => ` ${c}`), " ", ".", ",", "!", "?", "<eos>", "<bos>"];
export const EOS = VOCAB.indexOf("<eos>");
export const BOS = VOCAB.indexOf("<bos>");

export function fakeTokenizer(): Tokenizer {
  const ids = new Map(VOCAB.map((t, i) => [t, i]));
  return {
    vocabSize: VOCAB.length,
    bosId: BOS,
    eosId: EOS,
    padId: EOS,
    encode(text: string): Encoding {
      const out: Encoding = { ids: [], offsets: [] };
      for (let i = 0; i < text.length; ) {
        const two = text.slice(i, i + 2);
        const len = ids.has(two) && two.length === 2 ? 2 : 1;
        const id = ids.get(text.slice(i, i + len));
        if (id === undefined) throw new Error(`fake tokenizer: no token for '${text[i]}'`);
        out.ids.push(id);
        out.offsets.push([i, i + len]);
        i += len;
      }
      return out;
    },
    encodeBatch() {
      throw new Error("not used");
    },
    decode(idList, opts) {
      return idList
        .filter((i) => !(opts?.skipSpecialTokens && (i === EOS || i === BOS)))
        .map((i) => VOCAB[i] ?? "")
        .join("");
    },
    tokenToId: (t) => ids.get(t),
    idToToken: (i) => VOCAB[i],
    toJSON: () => ({}),
  };
}

const D = 6;
const N_CTX = 48;

/** `eosBias` raises the EOS logit so that generations end early (for EOS tests). */
export function fakeModel(seed = 1, eosBias = 0): Model {
  const rng = Rng.forRow(seed);
  const V = VOCAB.length;
  const rand = (n: number) => Float64Array.from({ length: n }, () => rng.random() * 2 - 1);
  const E = rand(V * D);
  const Wpos = rand(N_CTX * D);
  const U = rand(D * V);
  const config = { modelType: "gpt2", vocabSize: V, dModel: D, nLayers: 1, nHeads: 1, nKVHeads: 1, dHead: D, dMlp: D, nCtx: N_CTX, eosTokenId: EOS, bosTokenId: BOS, raw: {} } as unknown as ModelConfig;

  function forward(tokens: number[][], options: ForwardOptions = {}): ForwardResult {
    const B = tokens.length;
    const T = tokens[0]!.length;
    const pastTok: number[][] = options.kv ? readKV(options.kv) : tokens.map(() => []);
    const pastMask = options.kv ? options.kv.mask : tokens.map(() => []);
    const L = pastTok[0]!.length + T;
    const logits = new Float32Array(B * T * V);
    const seqs: number[][] = [];
    const masks: number[][] = [];
    for (let b = 0; b < B; b++) {
      const given = options.attentionMask?.[b];
      // Accept either the new tokens' mask or the whole (past + new) mask.
      const newMask = given ? (given.length === L ? given.slice(pastTok[b]!.length) : given) : new Array(T).fill(1);
      const seq = [...pastTok[b]!, ...tokens[b]!];
      const mask = [...pastMask[b]!, ...newMask];
      seqs.push(seq);
      masks.push(mask);
      const pos: number[] = [];
      let count = 0;
      for (const m of mask) {
        pos.push(Math.max(count - (m ? 0 : 1), 0));
        if (m) count++;
      }
      for (let t = L - T; t < L; t++) {
        const h = new Float64Array(D);
        for (let s = 0; s <= t; s++) {
          if (!mask[s]) continue;
          const w = 0.7 ** (pos[t]! - pos[s]!);
          for (let d = 0; d < D; d++) h[d]! += w * (E[seq[s]! * D + d]! + Wpos[pos[s]! * D + d]!);
        }
        for (let d = 0; d < D; d++) h[d] = Math.tanh(h[d]! + Wpos[pos[t]! * D + d]!);
        const row = (b * T + (t - (L - T))) * V;
        for (let v = 0; v < V; v++) {
          let acc = v === EOS ? eosBias : 0;
          for (let d = 0; d < D; d++) acc += h[d]! * U[d * V + v]!;
          logits[row + v] = 3 * acc;
        }
      }
    }
    if (options.kv) disposeKV(options.kv);
    const result: ForwardResult = { logits: np.array(logits, { shape: [B, T, V] }), cache: {} };
    if (options.returnKV) {
      const k = np.array(Float32Array.from(seqs.flat()), { shape: [B, 1, L, 1] });
      result.kv = { layers: [{ k, v: k.ref }], length: L, mask: masks };
    }
    return result;
  }

  const model: Model = {
    config,
    tokenizer: fakeTokenizer(),
    params: {} as Params,
    forward,
    apply: (_p, tokens, options) => forward(tokens, options),
    hookNames: () => [],
    withParams: () => model,
    dispose: () => {},
  };
  return model;
}

function readKV(kv: KVCache): number[][] {
  const k = kv.layers[0]!.k;
  const [B, , L] = k.shape as [number, number, number];
  const flat = k.ref.dataSync();
  return Array.from({ length: B }, (_, b) => Array.from(flat.subarray(b * L, (b + 1) * L) as Float32Array, Math.round));
}

function disposeKV(kv: KVCache): void {
  for (const l of kv.layers) {
    l.k.dispose();
    l.v.dispose();
  }
}
