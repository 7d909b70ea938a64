/** Normalizers, pre-tokenizers, decoders, the byte-level alphabet and the regex translation. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BYTE_TO_CHAR, CHAR_TO_BYTE, byteLevelDecode } from "../../src/io/tokenizer/byte-level.js";
import { buildDecoder } from "../../src/io/tokenizer/decoders.js";
import { Normalized } from "../../src/io/tokenizer/normalized.js";
import { buildNormalizer } from "../../src/io/tokenizer/normalizers.js";
import { buildPostProcessor } from "../../src/io/tokenizer/post-processors.js";
import { buildPreTokenizer } from "../../src/io/tokenizer/pre-tokenizers.js";
import { onigToJs } from "../../src/io/tokenizer/regex.js";

const pre = (spec: unknown, text: string) => buildPreTokenizer(spec)!(Normalized.original(text)).map((p) => p.text);
const preSpans = (spec: unknown, text: string) => buildPreTokenizer(spec)!(Normalized.original(text)).map((p) => p.originalRange(0, p.length));
const norm = (spec: unknown, text: string) => buildNormalizer(spec)!(Normalized.original(text));
const dec = (spec: unknown, tokens: string[]) => buildDecoder(spec)!(tokens).join("");

describe("byte-level alphabet (GPT-2 bytes_to_unicode)", () => {
  it("maps the 256 bytes to 256 distinct characters, printable ones to themselves", () => {
    assert.equal(new Set(BYTE_TO_CHAR).size, 256);
    assert.equal(BYTE_TO_CHAR[0x20], "Ġ");
    assert.equal(BYTE_TO_CHAR[0x0a], "Ċ");
    assert.equal(BYTE_TO_CHAR[0x00], "Ā");
    assert.equal(BYTE_TO_CHAR[0x61], "a");
    assert.equal(BYTE_TO_CHAR[0xad], "Ń", "soft hyphen is not printable in GPT-2's table");
    assert.equal(BYTE_TO_CHAR[0xff], "ÿ");
    for (let b = 0; b < 256; b++) assert.equal(CHAR_TO_BYTE[BYTE_TO_CHAR[b]!.charCodeAt(0)], b);
  });

  it("decodes bytes, tokens outside the alphabet as text, and bad UTF-8 as U+FFFD", () => {
    assert.equal(byteLevelDecode(["Hello", "Ġworld", "ĊĠ", "ðŁĺ", "Ģ"]), "Hello world\n 😀");
    assert.equal(byteLevelDecode(["a", "   ", "b"]), "a   b");
    assert.equal(byteLevelDecode(["ðŁĺ"]), "\ufffd");
  });
});

describe("regex translation (Oniguruma → JS)", () => {
  it("\\s is Unicode White_Space: U+0085 yes, U+FEFF no", () => {
    const s = new RegExp(onigToJs("\\s"), "u");
    assert.ok(s.test("\u0085"));
    assert.ok(!s.test("\ufeff"));
    assert.ok(new RegExp(onigToJs("[^\\s\\p{L}]"), "u").test("\ufeff"));
  });

  it("(?i:...) groups are case-insensitive; . excludes only \\n", () => {
    const re = new RegExp(`^(?:${onigToJs("(?i:'s|'ll)\\p{L}")})$`, "u");
    assert.ok(re.test("'LLx") && re.test("'sX") && !re.test("'Sx1"));
    assert.ok(new RegExp(onigToJs("^.$"), "u").test("\r"));
    assert.ok(!new RegExp(onigToJs("^.$"), "u").test("\n"));
  });

  it("^ and $ anchor lines, \\A and \\z the string", () => {
    assert.deepEqual([..."ab\nab".matchAll(new RegExp(onigToJs("^a|b$"), "gu"))].map((m) => m.index), [0, 1, 3, 4]);
    assert.deepEqual([..."ab\nab".matchAll(new RegExp(onigToJs("\\Aa|b\\z"), "gu"))].map((m) => m.index), [0, 4]);
  });

  it("rejects constructs JS cannot express", () => {
    assert.throws(() => onigToJs("(?>a)"), /atomic/);
    assert.throws(() => onigToJs("a++"), /possessive/);
  });
});

describe("normalizers", () => {
  it("NFC composes and aligns the composed character to its first source character", () => {
    const n = norm({ type: "NFC" }, "e\u0301x");
    assert.equal(n.text, "éx");
    assert.deepEqual(n.originalRange(0, 1), [0, 1]);
    assert.deepEqual(n.originalRange(1, 2), [2, 3]);
  });

  it("NFKC expands a ligature; all output characters keep the ligature's span", () => {
    const n = norm({ type: "NFKC" }, "a\ufb01b");
    assert.equal(n.text, "afib");
    assert.deepEqual([0, 1, 2, 3].map((i) => n.originalRange(i, i + 1)), [[0, 1], [1, 2], [1, 2], [2, 3]]);
  });

  it("Sequence[Prepend ▁, Replace ' ' → ▁] is Llama's legacy normalizer", () => {
    const n = norm({ type: "Sequence", normalizers: [{ type: "Prepend", prepend: "▁" }, { type: "Replace", pattern: { String: " " }, content: "▁" }] }, "Hi  there");
    assert.equal(n.text, "▁Hi▁▁there");
    assert.deepEqual(n.originalRange(0, 3), [0, 2]);
    assert.deepEqual(n.originalRange(3, 5), [2, 4]);
    assert.equal(norm({ type: "Prepend", prepend: "▁" }, "").text, "", "no prefix on an empty string");
  });

  it("Lowercase lowers per character (Σ → σ, no final-sigma rule); Replace with a regex", () => {
    assert.equal(norm({ type: "Lowercase" }, "ΟΔΟΣ ABC").text, "οδοσ abc");
    assert.equal(norm({ type: "Replace", pattern: { Regex: " {2,}" }, content: " " }, "a   b  c").text, "a b c");
  });
});

describe("pre-tokenizers", () => {
  it("Split behaviours on 'the-final--countdown' (HF SplitDelimiterBehavior docs)", () => {
    const split = (behavior: string) => pre({ type: "Split", pattern: { String: "-" }, behavior, invert: false }, "the-final--countdown");
    assert.deepEqual(split("Removed"), ["the", "final", "countdown"]);
    assert.deepEqual(split("Isolated"), ["the", "-", "final", "-", "-", "countdown"]);
    assert.deepEqual(split("MergedWithPrevious"), ["the-", "final-", "-", "countdown"]);
    assert.deepEqual(split("MergedWithNext"), ["the", "-final", "-", "-countdown"]);
    assert.deepEqual(split("Contiguous"), ["the", "-", "final", "--", "countdown"]);
  });

  it("Split with a regex and invert keeps the matches", () => {
    assert.deepEqual(pre({ type: "Split", pattern: { Regex: "\\d+" }, behavior: "Removed", invert: true }, "a12b345"), ["12", "345"]);
  });

  it("ByteLevel splits with GPT-2's pattern and maps to the byte alphabet", () => {
    assert.deepEqual(pre({ type: "ByteLevel", add_prefix_space: false, use_regex: true }, "Hello  world's 1"), ["Hello", "Ġ", "Ġworld", "'s", "Ġ1"]);
    assert.deepEqual(pre({ type: "ByteLevel", add_prefix_space: true, use_regex: true }, "Hi"), ["ĠHi"]);
    assert.deepEqual(pre({ type: "ByteLevel", add_prefix_space: false, use_regex: false }, "a b"), ["aĠb"]);
    // Oniguruma \s: U+FEFF is not whitespace, so it joins the "!" after it; U+0085 is.
    assert.deepEqual(pre({ type: "ByteLevel" }, "a\ufeff!"), ["a", "ï»¿!"]);
    assert.deepEqual(pre({ type: "ByteLevel" }, "a\u0085!"), ["a", "Â\u0085".replace("\u0085", BYTE_TO_CHAR[0x85]!), "!"]);
    // Multi-byte characters become several byte characters, each aligned to the whole character.
    assert.deepEqual(pre({ type: "ByteLevel" }, "é😀"), ["Ã©", "ðŁĺĢ"]);
    assert.deepEqual(preSpans({ type: "ByteLevel" }, "é😀"), [[0, 1], [1, 3]]);
    const emoji = buildPreTokenizer({ type: "ByteLevel" })!(Normalized.original("x😀"))[1]!;
    assert.deepEqual([0, 1, 2, 3].map((i) => emoji.originalRange(i, i + 1)), [[1, 3], [1, 3], [1, 3], [1, 3]]);
  });

  it("Metaspace replaces spaces, prepends ▁ and splits before each ▁", () => {
    assert.deepEqual(pre({ type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true }, "Hey friend"), ["▁Hey", "▁friend"]);
    assert.deepEqual(pre({ type: "Metaspace", replacement: "▁", prepend_scheme: "never", split: false }, "Hey friend"), ["Hey▁friend"]);
    assert.deepEqual(pre({ type: "Metaspace", replacement: "▁", add_prefix_space: true }, "a  b"), ["▁a", "▁", "▁b"]);
    // metaspace.rs non_legacy_meta_space: "first" prepends only to the piece at original offset 0.
    const first = { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: "(<s>)" }, behavior: "Isolated" }, { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false }] };
    assert.deepEqual(pre(first, " Hey <s>how <s>are <s> you"), ["▁Hey▁", "<s>", "how▁", "<s>", "are▁", "<s>", "▁you"]);
    assert.deepEqual(pre(first, "Hey <s>how"), ["▁Hey▁", "<s>", "how"]);
  });

  it("Digits, Whitespace, WhitespaceSplit, Punctuation, Sequence", () => {
    assert.deepEqual(pre({ type: "Digits", individual_digits: true }, "a123"), ["a", "1", "2", "3"]);
    assert.deepEqual(pre({ type: "Digits", individual_digits: false }, "a123b"), ["a", "123", "b"]);
    assert.deepEqual(pre({ type: "Whitespace" }, "Hey man!! ça va?"), ["Hey", "man", "!!", "ça", "va", "?"]);
    assert.deepEqual(pre({ type: "WhitespaceSplit" }, "Hey man!!\u3000ok"), ["Hey", "man!!", "ok"]);
    assert.deepEqual(pre({ type: "Punctuation", behavior: "Isolated" }, "Hey!?"), ["Hey", "!", "?"]);
    assert.deepEqual(pre({ type: "CharDelimiterSplit", delimiter: "x" }, "axxbx"), ["a", "b"]);
    assert.equal(norm({ type: "ByteLevel" }, "a é").text, "aĠÃ©");
    assert.deepEqual(pre({ type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Digits", individual_digits: true }] }, "ab12 c"), ["ab", "1", "2", "c"]);
  });
});

describe("decoders", () => {
  it("Llama's Sequence[Replace ▁→' ', ByteFallback, Fuse, Strip]", () => {
    const llama = {
      type: "Sequence",
      decoders: [{ type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }],
    };
    assert.equal(dec(llama, ["▁Hello", "▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "!"]), "Hello 😀!");
    assert.equal(dec(llama, ["▁a", "<0xF0>", "<0x9F>", "▁b"]), "a\ufffd\ufffd b", "invalid bytes: one U+FFFD per byte");
  });

  it("Metaspace strips the first prefix space; WordPiece glues ## pieces", () => {
    assert.deepEqual(buildDecoder({ type: "Metaspace", replacement: "▁", prepend_scheme: "always" })!(["▁Hey", "▁friend!"]), ["Hey", " friend!"]);
    assert.deepEqual(buildDecoder({ type: "Metaspace", replacement: "▁", prepend_scheme: "never" })!(["▁Hey", "▁friend!"]), [" Hey", " friend!"]);
    assert.equal(dec({ type: "WordPiece", prefix: "##", cleanup: true }, ["un", "##believ", "##able", "!"]), "unbelievable!");
  });
});

describe("post-processors", () => {
  it("ByteLevel trims whitespace from offsets (byte_level.rs processor_trims_offsets)", () => {
    const tokens = ["Ġ", "ĠĠĠĠHelloĠĠ", "ĠĠHello", "HelloĠĠ", "ĠĠĠĠ"];
    const post = buildPostProcessor({ type: "ByteLevel", add_prefix_space: true, trim_offsets: true }, (id) => tokens[id])!;
    const out = post({ ids: [0, 1, 2, 3, 4], offsets: [[0, 1], [0, 11], [11, 18], [18, 25], [25, 29]] }, false);
    assert.deepEqual(out.offsets, [[0, 0], [4, 9], [13, 18], [18, 23], [29, 29]]);
  });

  it("TemplateProcessing adds specials with empty offsets, only with addSpecialTokens", () => {
    const post = buildPostProcessor(
      {
        type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
        special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] }, "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] } },
      },
      () => undefined,
    )!;
    assert.deepEqual(post({ ids: [7], offsets: [[0, 3]] }, true), { ids: [1, 7, 2], offsets: [[0, 0], [0, 3], [0, 0]] });
    assert.deepEqual(post({ ids: [7], offsets: [[0, 3]] }, false), { ids: [7], offsets: [[0, 3]] });
  });
});
