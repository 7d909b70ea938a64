/** The public tokenizer API: builders, batching and padding, BOS, loading, typed errors. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { TokenizerError } from "../../src/errors.js";
import * as api from "../../src/index.js";
import { loadTokenizer } from "../../src/io/tokenizer/node.js";
import { tokenizerFromSentencePiece } from "../../src/io/tokenizer/sentencepiece.js";
import { tokenizerFromJSON } from "../../src/io/tokenizer/tokenizer.js";
import { wordLevelTokenizer } from "../../src/io/tokenizer/word-level-builder.js";
import { REPO, missing, tokDir } from "./shared-files.js";

describe("wordLevelTokenizer", () => {
  const tok = wordLevelTokenizer(["the", "cat", "sat", "<unk>"], { bos: "<bos>", eos: "<eos>", pad: "<pad>", unk: "<unk>", addBos: true });

  it("numbers words in order, appends missing specials, adds BOS", () => {
    assert.deepEqual([tok.tokenToId("the"), tok.tokenToId("<unk>"), tok.bosId, tok.eosId, tok.padId, tok.vocabSize], [0, 3, 4, 5, 6, 7]);
    assert.deepEqual(tok.encode("the cat  sat\ndog"), { ids: [4, 0, 1, 2, 3], offsets: [[0, 0], [0, 3], [4, 7], [9, 12], [13, 16]] });
    assert.deepEqual(tok.encode("the cat", { addSpecialTokens: false }).ids, [0, 1]);
    assert.deepEqual(tok.encode("the<eos>").ids, [4, 0, 5], "specials match inside words");
    assert.equal(tok.decode([4, 0, 1, 5]), "<bos> the cat <eos>");
    assert.equal(tok.decode([4, 0, 1, 5], { skipSpecialTokens: true }), "the cat");
  });

  it("round-trips through toJSON", () => {
    const again = tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())), { config: { bos_token: "<bos>", eos_token: "<eos>", pad_token: "<pad>" } });
    assert.deepEqual(again.encode("cat sat the").ids, [4, 1, 2, 0]);
    assert.equal(again.padId, 6);
  });

  it("rejects duplicate and whitespace words", () => {
    assert.throws(() => wordLevelTokenizer(["a", "a"]), TokenizerError);
    assert.throws(() => wordLevelTokenizer(["a b"]), TokenizerError);
  });

  it("without unk, an unknown word is a typed error", () => {
    assert.throws(() => wordLevelTokenizer(["a"]).encode("b"), (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_NO_UNK");
  });
});

describe("encodeBatch", () => {
  const tok = wordLevelTokenizer(["a", "b", "c"], { eos: "</s>", pad: "<pad>" });

  it("pads right by default and left on request, with attention masks", () => {
    assert.deepEqual(tok.encodeBatch(["a b c", "a", ""]), {
      ids: [[0, 1, 2], [0, 4, 4], [4, 4, 4]],
      attentionMask: [[1, 1, 1], [1, 0, 0], [0, 0, 0]],
    });
    assert.deepEqual(tok.encodeBatch(["a b c", "b"], { padding: "left" }), { ids: [[0, 1, 2], [4, 4, 1]], attentionMask: [[1, 1, 1], [0, 0, 1]] });
  });

  it("pads with EOS when there is no pad token, and fails typed when there is neither", () => {
    const eosOnly = wordLevelTokenizer(["a", "b"], { eos: "</s>" });
    assert.deepEqual(eosOnly.encodeBatch(["a b", "a"]).ids, [[0, 1], [0, 2]]);
    const bare = wordLevelTokenizer(["a", "b"]);
    assert.deepEqual(bare.encodeBatch(["a", "b"]).ids, [[0], [1]], "equal lengths need no pad");
    assert.throws(() => bare.encodeBatch(["a b", "a"]), (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_NO_PAD");
  });
});

describe("typed errors", () => {
  const isTok = (code: string, file?: RegExp) => (e: unknown) => e instanceof TokenizerError && e.code === code && (!file || file.test(e.message));

  it("corrupt or non-tokenizer JSON", () => {
    assert.throws(() => tokenizerFromJSON('{"model": {', { file: "x/tokenizer.json" }), isTok("TOKENIZER_JSON", /x\/tokenizer\.json/));
    assert.throws(() => tokenizerFromJSON({ version: "1.0" }), isTok("TOKENIZER_JSON"));
    assert.throws(() => tokenizerFromJSON({ model: { type: "BPE", vocab: { a: 0 }, merges: ["a b"] } }), isTok("TOKENIZER_JSON"));
  });

  it("unsupported components name their type and the file", () => {
    const base = { model: { type: "WordLevel", vocab: { a: 0 }, unk_token: "a" } };
    assert.throws(() => tokenizerFromJSON({ model: { type: "Unigram", vocab: [] } }, { file: "m/tokenizer.json" }), (e: unknown) => isTok("TOKENIZER_UNSUPPORTED", /Unigram.*m\/tokenizer\.json/)(e) && (e as TokenizerError).field === "model.type");
    assert.throws(() => tokenizerFromJSON({ ...base, normalizer: { type: "Precompiled", precompiled_charsmap: "" } }, { file: "f.json" }), isTok("TOKENIZER_UNSUPPORTED", /Precompiled.*f\.json/));
    assert.throws(() => tokenizerFromJSON({ ...base, pre_tokenizer: { type: "UnicodeScripts" } }), isTok("TOKENIZER_UNSUPPORTED", /UnicodeScripts/));
    assert.throws(() => tokenizerFromJSON({ ...base, decoder: { type: "CTC" } }), isTok("TOKENIZER_UNSUPPORTED", /CTC/));
    assert.throws(() => tokenizerFromJSON({ ...base, post_processor: { type: "Mystery" } }), isTok("TOKENIZER_UNSUPPORTED", /Mystery/));
    assert.throws(() => tokenizerFromJSON({ ...base, pre_tokenizer: { type: "Split", pattern: { Regex: "(?>a)" }, behavior: "Isolated" } }), isTok("TOKENIZER_REGEX"));
  });

  it("missing paths and directories without a tokenizer", async () => {
    await assert.rejects(loadTokenizer("/nonexistent/dir"), isTok("TOKENIZER_NOT_FOUND"));
    await assert.rejects(loadTokenizer(mkdtempSync(path.join(tmpdir(), "tok-"))), isTok("TOKENIZER_NOT_FOUND"));
  });
});

// ---- A synthetic SentencePiece model, written with a tiny protobuf encoder ----

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
const field = (num: number, wire: number, body: number[]) => [...varint(num * 8 + wire), ...body];
const bytesField = (num: number, body: number[]) => field(num, 2, [...varint(body.length), ...body]);
const str = (s: string) => [...new TextEncoder().encode(s)];
const f32 = (x: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [...b];
};
function spModel(pieces: [string, number, number][], modelType: number): Uint8Array {
  const out: number[] = [];
  for (const [p, score, type] of pieces) out.push(...bytesField(1, [...bytesField(1, str(p)), ...field(2, 5, f32(score)), ...field(3, 0, varint(type))]));
  out.push(...bytesField(2, [...field(3, 0, varint(modelType)), ...field(35, 0, [1])]));
  out.push(...bytesField(3, [...bytesField(1, str("identity")), ...field(4, 0, [0])]));
  return Uint8Array.from(out);
}
// pieces: id 0..2 specials, then normal pieces with scores (higher merges first), then two bytes.
const PIECES: [string, number, number][] = [
  ["<unk>", 0, 2], ["<s>", 0, 3], ["</s>", 0, 3],
  ["▁a", -1, 1], ["ab", -2, 1], ["▁ab", -3, 1], ["▁", -4, 1], ["a", -5, 1], ["b", -6, 1],
  ["<0xC3>", 0, 6], ["<0xA9>", 0, 6],
];

describe("SentencePiece conversion on a synthetic model", () => {
  it("builds BPE merges from scores and encodes like SentencePiece's BPE", () => {
    const tok = tokenizerFromSentencePiece(spModel(PIECES, 2));
    // "ab ab": ▁ab ▁ab — "▁a" (score -1) merges before "ab" (-2), then ▁a+b → ▁ab.
    assert.deepEqual(tok.encode("ab ab").ids, [1, 5, 5]);
    assert.deepEqual(tok.encode("é", { addSpecialTokens: false }).ids, [6, 9, 10], "byte fallback");
    assert.deepEqual(tok.encode("z", { addSpecialTokens: false }).ids, [6, 0], "no byte pieces for z: unk");
    assert.equal(tok.decode(tok.encode("ab é").ids, { skipSpecialTokens: true }), "ab é");
  });

  it("truncated or corrupt protobuf is a typed error naming the file", () => {
    const good = spModel(PIECES, 2);
    for (const cut of [good.length - 3, 17, 5]) {
      assert.throws(() => tokenizerFromSentencePiece(good.slice(0, cut), { file: "t/tokenizer.model" }), (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_PROTOBUF" && /t\/tokenizer\.model/.test(e.message));
    }
    assert.throws(() => tokenizerFromSentencePiece(Uint8Array.from([0x0f, 1, 2])), (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_PROTOBUF");
    assert.throws(() => tokenizerFromSentencePiece(new Uint8Array(0)), (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_PROTOBUF");
  });

  it("a Unigram model is reported as unsupported", () => {
    assert.throws(() => tokenizerFromSentencePiece(spModel(PIECES, 1), { file: "u.model" }), (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_UNSUPPORTED" && /UNIGRAM/.test(e.message));
  });

  it("loadTokenizer reads a directory holding only tokenizer.model, with tokenizer_config.json", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tok-"));
    writeFileSync(path.join(dir, "tokenizer.model"), spModel(PIECES, 2));
    assert.deepEqual((await loadTokenizer(dir)).encode("ab").ids, [1, 5]);
    writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ add_bos_token: false, add_eos_token: true }));
    assert.deepEqual((await loadTokenizer(dir)).encode("ab").ids, [5, 2]);
    writeFileSync(path.join(dir, "tokenizer_config.json"), "{oops");
    await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof TokenizerError && e.code === "TOKENIZER_CONFIG");
  });
});

describe("loading tokenizer.json with tokenizer_config.json", { skip: missing(path.join(tokDir("gpt-neox-pythia"), "tokenizer.json")) }, () => {
  it("add_bos_token in the config rebuilds the template for GPT-NeoX, as transformers does", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tok-"));
    writeFileSync(path.join(dir, "tokenizer.json"), readFileSync(path.join(tokDir("gpt-neox-pythia"), "tokenizer.json")));
    const config = JSON.parse(readFileSync(path.join(tokDir("gpt-neox-pythia"), "tokenizer_config.json"), "utf8"));
    writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ ...config, add_bos_token: true }));
    const tok = await loadTokenizer(dir);
    assert.deepEqual(tok.encode("Hello").ids, [0, 12092]);
    assert.deepEqual(tok.encode("Hello", { addSpecialTokens: false }).ids, [12092]);
    const saved = tok.toJSON() as { post_processor: { single: unknown[] } };
    assert.equal(saved.post_processor.single.length, 2, "toJSON writes the effective template");
  });
});

describe("saving: toJSON + toConfigJSON reload to the same tokenizer", () => {
  it("keeps ids and special-token roles through a directory round trip", async () => {
    const tokenizers = [wordLevelTokenizer(["a", "b"], { bos: "<s>", eos: "</s>", pad: "<pad>", addBos: true })];
    if (!missing(path.join(tokDir("gpt2"), "tokenizer.json"))) tokenizers.push(await loadTokenizer(tokDir("gpt2")));
    for (const tok of tokenizers) {
      const dir = mkdtempSync(path.join(tmpdir(), "tok-"));
      writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tok.toJSON()));
      writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(tok.toConfigJSON!()));
      const again = await loadTokenizer(dir);
      assert.deepEqual([again.bosId, again.eosId, again.padId, again.vocabSize], [tok.bosId, tok.eosId, tok.padId, tok.vocabSize]);
      assert.deepEqual(again.encode("a b<s>a").ids, tok.encode("a b<s>a").ids);
    }
  });
});

describe("exports", () => {
  it("src/index.ts exports the tokenizer API", () => {
    for (const name of ["loadTokenizer", "tokenizerFromJSON", "tokenizerFromSentencePiece", "wordLevelTokenizer"]) {
      assert.equal(typeof (api as Record<string, unknown>)[name], "function", name);
    }
  });

  it("the tokenizer modules import no Node built-in statically (browser-safe)", () => {
    const dir = path.join(REPO, "src/io/tokenizer");
    const seen = new Set<string>();
    const stack = [path.join(dir, "index.ts")];
    while (stack.length) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
        assert.ok(!m[1]!.startsWith("node:"), `${path.basename(file)} imports ${m[1]}`);
        if (m[1]!.startsWith(".")) stack.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ".ts")));
      }
    }
    assert.ok(seen.size >= 12, `walked ${seen.size} files`);
  });
});
