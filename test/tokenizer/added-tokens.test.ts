/**
 * Added-token matching rules (HF added_vocabulary.rs). The byte-level cases replay the Rust
 * crate's own tests (tokenizers/tests/added_tokens.rs) on GPT-2's tokenizer.json with the token
 * added; their byte offsets are converted to UTF-16 (the cat emoji is 4 bytes, 2 code units).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { tokenizerFromJSON } from "../../src/io/tokenizer/tokenizer.js";
import { missing, tokDir } from "./shared-files.js";

const GPT2 = path.join(tokDir("gpt2"), "tokenizer.json");

function gpt2With(token: Record<string, unknown>, addPrefixSpace: boolean) {
  const json = JSON.parse(readFileSync(GPT2, "utf8"));
  json.added_tokens.push({ id: 50257, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...token });
  json.pre_tokenizer.add_prefix_space = addPrefixSpace;
  const tok = tokenizerFromJSON(json);
  return (text: string) => {
    const e = tok.encode(text, { addSpecialTokens: false });
    return { tokens: e.ids.map((id) => tok.idToToken(id)), offsets: e.offsets };
  };
}

describe("added tokens on a byte-level tokenizer (HF tests/added_tokens.rs)", { skip: missing(GPT2) }, () => {
  it("lstrip swallows the whitespace on the left", () => {
    const enc = gpt2With({ content: "<mask>", lstrip: true }, true);
    const r = enc("I saw a <mask> 😺");
    assert.deepEqual(r.tokens, ["ĠI", "Ġsaw", "Ġa", "<mask>", "ĠðŁĺ", "º"]);
    assert.deepEqual(r.offsets, [[0, 1], [1, 5], [5, 7], [7, 14], [14, 17], [15, 17]]);
  });

  it("rstrip swallows the whitespace on the right", () => {
    assert.deepEqual(gpt2With({ content: "<mask>", rstrip: true }, false)("I saw a <mask> 😺").tokens, ["I", "Ġsaw", "Ġa", "Ġ", "<mask>", "ðŁĺ", "º"]);
    // With add_prefix_space the following piece gets a new space of its own.
    assert.deepEqual(gpt2With({ content: "<mask>", rstrip: true }, true)("I saw a <mask> 😺").tokens, ["ĠI", "Ġsaw", "Ġa", "Ġ", "<mask>", "ĠðŁĺ", "º"]);
  });

  it("single_word only matches a whole word", () => {
    assert.deepEqual(gpt2With({ content: "ing", single_word: true }, false)("I like dancing").tokens, ["I", "Ġlike", "Ġdancing"]);
    const split = gpt2With({ content: "ing", single_word: false }, false)("I like dancing").tokens;
    assert.equal(split.at(-1), "ing");
    assert.equal(split.slice(2, -1).join(""), "Ġdanc");
    assert.deepEqual(gpt2With({ content: "ing", single_word: true }, false)("I like ing.").tokens.slice(-2), ["ing", "."]);
  });
});

/** A word-level tokenizer with a Lowercase normalizer and the given added tokens. */
function lowerWords(added: Record<string, unknown>[]) {
  const words = ["<unk>", "i", "read", "a", "book", "yesterday", "!", "[sep]"];
  return tokenizerFromJSON({
    added_tokens: added.map((t, k) => ({ id: 100 + k, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false, ...t })),
    normalizer: { type: "Lowercase" },
    pre_tokenizer: { type: "Whitespace" },
    model: { type: "WordLevel", vocab: Object.fromEntries(words.map((w, i) => [w, i])), unk_token: "<unk>" },
  });
}

describe("added tokens and normalization", () => {
  it("a normalized token matches the normalized text; a raw one only the raw text", () => {
    const norm = lowerWords([{ content: "Yesterday", normalized: true }]);
    assert.deepEqual(norm.encode("I read a book YESTERDAY").ids, [1, 2, 3, 4, 100]);
    const raw = lowerWords([{ content: "Yesterday", normalized: false }]);
    assert.deepEqual(raw.encode("I read a book YESTERDAY").ids, [1, 2, 3, 4, 5], "no match: the model's word is used");
    assert.deepEqual(raw.encode("I read a book Yesterday").ids, [1, 2, 3, 4, 100]);
    assert.deepEqual(raw.encode("I read a book Yesterday").offsets.at(-1), [14, 23]);
  });

  it("matches leftmost-longest and splits words around the token", () => {
    const t = lowerWords([{ content: "[SEP]", normalized: false }, { content: "[SEP][SEP]", normalized: false }]);
    assert.deepEqual(t.encode("book[SEP][SEP][SEP]a").ids, [4, 101, 100, 3]);
  });

  it("special tokens are dropped by decode only with skipSpecialTokens", () => {
    const t = lowerWords([{ content: "<SEP>", normalized: false, special: true }]);
    const ids = t.encode("read<SEP>book").ids;
    assert.deepEqual(ids, [2, 100, 4]);
    assert.equal(t.decode(ids), "read <SEP> book", "no decoder: tokens joined by spaces");
    assert.equal(t.decode(ids, { skipSpecialTokens: true }), "read book");
  });
});
