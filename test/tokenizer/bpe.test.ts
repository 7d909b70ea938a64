/** The BPE model on hand-made vocabularies: merge order, byte fallback, unk, prefixes, cache. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BPE } from "../../src/io/tokenizer/bpe.js";
import type { TokenSink } from "../../src/io/tokenizer/model.js";

function run(model: BPE, word: string) {
  const out: TokenSink = { ids: [], starts: [], ends: [] };
  model.tokenize(word, out);
  return { tokens: out.ids.map((id) => model.idToToken(id)), spans: out.starts.map((s, i) => [s, out.ends[i]]) };
}

function bpe(tokens: string[], merges: string[], extra: Record<string, unknown> = {}) {
  return new BPE({ type: "BPE", vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges, ...extra });
}

describe("BPE merging", () => {
  it("applies merges by rank, not left to right", () => {
    // "bc" ranks before "ab": abc → a + bc, though "ab" comes first in the word.
    const m = bpe(["a", "b", "c", "ab", "bc"], ["b c", "a b"]);
    assert.deepEqual(run(m, "abc").tokens, ["a", "bc"]);
    const m2 = bpe(["a", "b", "c", "ab", "bc"], ["a b", "b c"]);
    assert.deepEqual(run(m2, "abc").tokens, ["ab", "c"]);
  });

  it("breaks rank ties leftmost first and re-merges new pairs", () => {
    const m = bpe(["a", "aa", "aaaa"], ["a a", "aa aa"]);
    assert.deepEqual(run(m, "aaaaa").tokens, ["aaaa", "a"]);
    assert.deepEqual(run(m, "aaaaa").spans, [[0, 4], [4, 5]]);
  });

  it("accepts merges as [left, right] pairs (tokenizers ≥ 0.20 format)", () => {
    const pairs = bpe(["x", "y", "xy"], []);
    assert.deepEqual(run(pairs, "xy").tokens, ["x", "y"]);
    const withPairs = new BPE({ type: "BPE", vocab: { x: 0, y: 1, xy: 2 }, merges: [["x", "y"]] });
    assert.deepEqual(run(withPairs, "xy").tokens, ["xy"]);
  });

  it("matches a naive quadratic BPE on random words (heap + stale-entry logic)", () => {
    // A vocabulary over {a,b,c} with merges of every pair of existing tokens up to length 4.
    const tokens = ["a", "b", "c"];
    const merges: string[] = [];
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < 40; k++) {
      const l = tokens[Math.floor(rand() * tokens.length)]!;
      const r = tokens[Math.floor(rand() * tokens.length)]!;
      if ((l + r).length > 4 || merges.includes(`${l} ${r}`)) continue;
      merges.push(`${l} ${r}`);
      if (!tokens.includes(l + r)) tokens.push(l + r);
    }
    const m = bpe(tokens, merges);
    const rank = new Map(merges.map((x, i) => [x, i]));
    const naive = (w: string) => {
      const syms = [...w];
      for (;;) {
        let best = -1;
        let at = -1;
        for (let i = 0; i + 1 < syms.length; i++) {
          const r = rank.get(`${syms[i]} ${syms[i + 1]}`);
          if (r !== undefined && (best < 0 || r < best)) [best, at] = [r, i];
        }
        if (at < 0) return syms;
        syms.splice(at, 2, syms[at]! + syms[at + 1]!);
      }
    };
    for (let n = 0; n < 300; n++) {
      const w = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => "abc"[Math.floor(rand() * 3)]).join("");
      assert.deepEqual(run(m, w).tokens, naive(w), w);
    }
  });
});

describe("BPE on long SentencePiece-style words", () => {
  it("splitting before ▁ (when no merge crosses it) changes nothing", () => {
    const tokens = ["▁", "a", "b", "▁a", "ab", "▁ab", "▁▁", "ba", "▁▁a", "bab"];
    const merges = ["▁ a", "a b", "▁a b", "▁ ▁", "b a", "▁▁ a", "ba b"];
    const chunked = bpe(tokens, merges);
    // One extra merge "z ▁z" crosses a ▁ boundary: that model must run on the whole word.
    const whole = bpe([...tokens, "z", "▁z", "z▁z"], [...merges, "▁ z", "z ▁z"]);
    assert.equal((chunked as unknown as { metaChunks: boolean }).metaChunks, true);
    assert.equal((whole as unknown as { metaChunks: boolean }).metaChunks, false);
    let seed = 99;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let n = 0; n < 100; n++) {
      const w = Array.from({ length: 40 + Math.floor(rand() * 200) }, () => "▁ab"[Math.floor(rand() * 3)]).join("");
      assert.deepEqual(run(chunked, w), run(whole, w), w);
    }
  });
});

describe("BPE unknowns", () => {
  it("byte_fallback spells a missing character as <0xNN> tokens spanning the character", () => {
    const m = bpe(["a", "<0xC3>", "<0xA9>", "<unk>"], [], { byte_fallback: true, unk_token: "<unk>" });
    const r = run(m, "aé");
    assert.deepEqual(r.tokens, ["a", "<0xC3>", "<0xA9>"]);
    assert.deepEqual(r.spans, [[0, 1], [1, 2], [1, 2]]);
  });

  it("falls back to unk when a byte is missing, fusing runs when fuse_unk", () => {
    const fused = bpe(["a", "<unk>"], [], { unk_token: "<unk>", fuse_unk: true, byte_fallback: true });
    assert.deepEqual(run(fused, "axyza").tokens, ["a", "<unk>", "a"]);
    assert.deepEqual(run(fused, "axyza").spans, [[0, 1], [1, 4], [4, 5]]);
    const unfused = bpe(["a", "<unk>"], [], { unk_token: "<unk>" });
    assert.deepEqual(run(unfused, "axya").tokens, ["a", "<unk>", "<unk>", "a"]);
    const none = bpe(["a"], []);
    assert.deepEqual(run(none, "axa").tokens, ["a", "a"], "without unk_token the character is dropped");
  });

  it("continuing_subword_prefix and end_of_word_suffix shape the initial symbols", () => {
    // The merge "h ##i" produces "hi": the prefix of the right part is dropped (model.rs).
    const m = bpe(["h", "##i", "##!", "hi"], ["h ##i"], { continuing_subword_prefix: "##" });
    assert.deepEqual(run(m, "hi!").tokens, ["hi", "##!"]);
    const s = bpe(["l", "o", "w</w>", "lo", "low</w>"], ["l o", "lo w</w>"], { end_of_word_suffix: "</w>" });
    assert.deepEqual(run(s, "low").tokens, ["low</w>"]);
  });

  it("ignore_merges takes a whole word found in the vocabulary", () => {
    const m = bpe(["a", "b", "c", "ab", "abc"], ["a b"], { ignore_merges: true });
    assert.deepEqual(run(m, "abc").tokens, ["abc"]);
    const m2 = bpe(["a", "b", "c", "ab", "abc"], ["a b"]);
    assert.deepEqual(run(m2, "abc").tokens, ["ab", "c"]);
  });

  it("gives the same answer from its cache", () => {
    const m = bpe(["a", "b", "ab"], ["a b"]);
    assert.deepEqual(run(m, "abab"), run(m, "abab"));
  });
});
