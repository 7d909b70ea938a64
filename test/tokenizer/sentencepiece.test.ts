/**
 * SentencePiece tokenizer.model → tokenizer (LlamaConverter semantics), checked against ids made
 * by SentencePiece itself (test/fixtures/*-ids.json, written by scripts/make-llama2-golden.py).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { loadTokenizer } from "../../src/io/tokenizer/node.js";
import { ModelType, readSentencePieceModel, tokenizerFromSentencePiece } from "../../src/io/tokenizer/sentencepiece.js";
import { tokenizerFromJSON } from "../../src/io/tokenizer/tokenizer.js";
import { FIXTURES, missing, tokDir } from "./shared-files.js";

interface Golden {
  bos_id: number;
  cases: { text: string; ids: number[]; ids_bos: number[]; decoded: string }[];
}

const MODELS = [
  { name: "llama2-sentencepiece-32k", file: "tokenizer.model", golden: "llama2-sentencepiece-ids.json" },
  { name: "tinystories-tok512", file: "tok512.model", golden: "tinystories-tok512-ids.json" },
];

for (const m of MODELS) {
  const modelFile = path.join(tokDir(m.name), m.file);
  describe(`${m.name} matches SentencePiece`, { skip: missing(modelFile) }, () => {
    const golden = JSON.parse(readFileSync(path.join(FIXTURES, m.golden), "utf8")) as Golden;

    it("encodes every corpus text to SentencePiece's ids, without and with BOS", async () => {
      const tok = await loadTokenizer(tokDir(m.name));
      assert.ok(golden.cases.length >= 30);
      for (const c of golden.cases) {
        assert.deepEqual(tok.encode(c.text, { addSpecialTokens: false }).ids, c.ids, JSON.stringify(c.text));
        assert.deepEqual(tok.encode(c.text).ids, c.ids_bos, JSON.stringify(c.text));
      }
    });

    it("decodes ids to SentencePiece's decoded text", async () => {
      const tok = await loadTokenizer(modelFile);
      for (const c of golden.cases) assert.equal(tok.decode(c.ids), c.decoded, JSON.stringify(c.text));
      const withBos = golden.cases[0]!.ids_bos;
      assert.equal(tok.decode(withBos, { skipSpecialTokens: true }), golden.cases[0]!.decoded);
    });

    it("writes a tokenizer.json that reloads to identical ids", async () => {
      const tok = await loadTokenizer(modelFile);
      const json = JSON.parse(JSON.stringify(tok.toJSON()));
      assert.equal(json.model.type, "BPE");
      assert.equal(json.model.byte_fallback, true);
      const again = tokenizerFromJSON(json, { config: tok.toConfigJSON!() });
      for (const c of golden.cases) assert.deepEqual(again.encode(c.text).ids, c.ids_bos, JSON.stringify(c.text));
      assert.deepEqual([again.vocabSize, again.bosId, again.eosId, again.padId], [tok.vocabSize, tok.bosId, tok.eosId, tok.padId]);
      // A bare tokenizer.json still knows its BOS: the template's leading special token.
      assert.equal(tokenizerFromJSON(json).bosId, golden.bos_id);
      assert.deepEqual(tok.toConfigJSON!(), { tokenizer_class: "LlamaTokenizerFast", add_bos_token: true, add_eos_token: false, bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" });
    });
  });
}

describe("Llama-2 tokenizer details", { skip: missing(path.join(tokDir("llama2-sentencepiece-32k"), "tokenizer.model")) }, () => {
  const file = path.join(tokDir("llama2-sentencepiece-32k"), "tokenizer.model");

  it("reads the ModelProto: 32000 BPE pieces, byte fallback, control and byte pieces", () => {
    const model = readSentencePieceModel(readFileSync(file));
    assert.equal(model.pieces.length, 32000);
    assert.equal(model.trainerSpec.modelType, ModelType.BPE);
    assert.equal(model.trainerSpec.byteFallback, true);
    assert.deepEqual(model.pieces.slice(0, 4).map((p) => [p.piece, p.type]), [["<unk>", 2], ["<s>", 3], ["</s>", 3], ["<0x00>", 6]]);
    assert.equal(model.trainerSpec.padId, -1, "int32 -1 is a 10-byte varint");
    assert.equal(model.normalizerSpec.addDummyPrefix, true);
    assert.equal(model.normalizerSpec.removeExtraWhitespaces, false);
  });

  it("Hello world → [1, 15043, 3186] with offsets; ids, specials and byte fallback", async () => {
    const tok = tokenizerFromSentencePiece(readFileSync(file));
    assert.deepEqual(tok.encode("Hello world"), { ids: [1, 15043, 3186], offsets: [[0, 0], [0, 5], [5, 11]] });
    assert.deepEqual([tok.bosId, tok.eosId, tok.padId, tok.vocabSize], [1, 2, 2, 32000]);
    // A character missing from the vocabulary falls back to its UTF-8 bytes, each spanning it.
    const e = tok.encode("😀", { addSpecialTokens: false });
    assert.deepEqual(e.ids, [29871, 243, 162, 155, 131]);
    assert.deepEqual(e.offsets.slice(1), [[0, 2], [0, 2], [0, 2], [0, 2]]);
    assert.equal(tok.idToToken(243), "<0xF0>");
  });

  it("legacy: false puts the dummy prefix only at the start of the text (LlamaConverter)", () => {
    const bytes = readFileSync(file);
    const legacy = tokenizerFromSentencePiece(bytes);
    const modern = tokenizerFromSentencePiece(bytes, { config: { legacy: false } });
    const golden = JSON.parse(readFileSync(path.join(FIXTURES, "llama2-sentencepiece-ids.json"), "utf8")) as Golden;
    const tokens = (t: typeof legacy, s: string) => t.encode(s, { addSpecialTokens: false }).ids.map((id) => t.idToToken(id));
    // Same ids as SentencePiece except for text that starts with a space: HF's Metaspace does not
    // prepend to text already starting with ▁ (metaspace.rs), SentencePiece always does.
    for (const c of golden.cases) {
      if (!c.text.startsWith(" ")) assert.deepEqual(modern.encode(c.text).ids, c.ids_bos, JSON.stringify(c.text));
    }
    assert.deepEqual(tokens(modern, " Hello"), ["▁Hello"]);
    assert.deepEqual(tokens(legacy, " Hello"), ["▁", "▁Hello"]);
    assert.deepEqual(tokens(legacy, "<s>Hello"), ["<s>", "▁Hello"]);
    assert.deepEqual(tokens(modern, "<s>Hello"), ["<s>", "Hello"]);
    assert.equal(modern.decode(modern.encode("Hello world").ids, { skipSpecialTokens: true }), "Hello world");
  });

  it("honours add_bos_token / add_eos_token from tokenizer_config.json", () => {
    const tok = tokenizerFromSentencePiece(readFileSync(file), { config: { add_bos_token: false, add_eos_token: true } });
    assert.deepEqual(tok.encode("Hello world").ids, [15043, 3186, 2]);
  });
});
