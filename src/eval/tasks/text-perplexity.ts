/**
 * Perplexity of a model on documents of the user's own text, with lm-evaluation-harness's
 * loglikelihood_rolling semantics (as its `wikitext` task; rolling.ts: disjoint windows, the first
 * token conditioned on BOS/EOS, every token scored once) or the HF guide's sliding window:
 *
 *   token_perplexity = exp(−Σ ll / Σ tokens scored)
 *   word_perplexity  = exp(−Σ ll / Σ words),  words = whitespace-separated pieces (lm-eval)
 *   byte_perplexity  = exp(−Σ ll / Σ UTF-8 bytes),  bits_per_byte = −Σ ll / Σ bytes / ln 2
 *
 * Sums run over all documents (lm-eval's weighted_perplexity). Documents come from a .jsonl file
 * (each line an object with a "text" field, or a JSON string), a .json file (an array of strings
 * or of such objects), or plain text (documents separated by blank lines).
 * Task name: `perplexity:FILE`.
 */
import { UsageError } from "../../errors.js";
import { countBytes, countWords } from "../perplexity.js";
import type { Instance, PerplexityResponse, Task } from "../types.js";

export interface TextPerplexityOptions {
  name: string;
  version?: string;
  /** Window length (default the model's context window). */
  maxLength?: number;
  /** "rolling" (lm-eval's, default) or "strided" (sliding window, step `stride`, default maxLength / 2). */
  windows?: "rolling" | "strided";
  stride?: number;
  /** Text as scored (words and bytes are counted on the document as given, as lm-eval does). */
  detokenize?: (doc: string) => string;
  /** What the documents are, for the prompt-format record. */
  describe?: string;
}

export function textPerplexityTask(docs: readonly string[], opts: TextPerplexityOptions): Task {
  const rolling = (opts.windows ?? "rolling") === "rolling";
  const maxLength = opts.maxLength ? { maxLength: opts.maxLength } : {};
  const instance = (doc: string, i: number): Instance => {
    const words = countWords(doc);
    const bytes = countBytes(doc);
    const text = opts.detokenize ? opts.detokenize(doc) : doc;
    return {
      id: String(i),
      prompt: "",
      target: doc.slice(0, 80) + (doc.length > 80 ? "…" : ""),
      requests: [
        rolling
          ? { type: "perplexity", text, prefix: true, rolling: true, ...maxLength }
          : { type: "perplexity", text, prefix: true, ...maxLength, ...(opts.stride ? { stride: opts.stride } : {}) },
      ],
      score: (rs) => {
        const r = rs[0] as PerplexityResponse;
        return { word_perplexity: [r.ll, words], byte_perplexity: [r.ll, bytes], bits_per_byte: [r.ll, bytes], token_perplexity: [r.ll, r.nTokens] };
      },
    };
  };
  const scheme = rolling
    ? `lm-eval loglikelihood_rolling: disjoint windows of ${opts.maxLength ?? "n_ctx"} tokens, the first token conditioned on BOS/EOS, each later window on the preceding tokens that fill it to max_length inputs, every token scored once`
    : `HF guide sliding window: ${opts.maxLength ?? "n_ctx"} tokens, stride ${opts.stride ?? "max_length/2"}, BOS/EOS prefix, every token scored once with up to max_length − stride tokens of extra context`;
  const ll = rolling ? "Σ ll over lm-eval's disjoint rolling windows" : "Σ ll over the sliding windows";
  return {
    name: opts.name,
    version: opts.version ?? "1.0",
    promptFormat: `${opts.describe ?? "each document"}, scored whole; ${scheme}`,
    fewshot: { n: 0, split: "none", sampler: "none", seed: 0 },
    metrics: {
      word_perplexity: { aggregation: "weighted_perplexity", higherIsBetter: false, definition: `exp(−Σ_docs ll / Σ_docs words), ll = ${ll}, words = len(re.split(r'\\s+', doc)) of the document as given (lm-eval)` },
      byte_perplexity: { aggregation: "weighted_perplexity", higherIsBetter: false, definition: `exp(−Σ ll / Σ UTF-8 bytes of the document), ll = ${ll} (lm-eval)` },
      bits_per_byte: { aggregation: "bits_per_byte", higherIsBetter: false, definition: `−Σ ll / Σ bytes / ln 2, ll = ${ll} (lm-eval)` },
      token_perplexity: { aggregation: "weighted_perplexity", higherIsBetter: false, definition: `exp(−Σ ll / Σ tokens scored), ll = ${ll} (not an lm-eval metric)` },
    },
    size: docs.length,
    instances: (limit) => docs.slice(0, limit ?? docs.length).map(instance),
  };
}

/** Documents of a text file's content: .jsonl / .json records (strings or objects with "text"), else blank-line-separated paragraphs. */
export function textDocuments(content: string, file: string): string[] {
  const pick = (r: unknown, where: string): string => {
    if (typeof r === "string") return r;
    if (r !== null && typeof r === "object" && typeof (r as { text?: unknown }).text === "string") return (r as { text: string }).text;
    throw new UsageError("DATASET_FIELD", `${where}: a document must be a string or an object with a "text" string`, { file, field: "text" });
  };
  const parse = (s: string, where: string): unknown => {
    try {
      return JSON.parse(s);
    } catch (e) {
      throw new UsageError("DATASET_PARSE", `${where} is not valid JSON (${(e as Error).message})`, { file });
    }
  };
  let docs: string[];
  if (/\.jsonl$/i.test(file)) {
    docs = content.split("\n").map((l, i) => [l.trim(), i] as const).filter(([l]) => l !== "").map(([l, i]) => pick(parse(l, `line ${i + 1}`), `line ${i + 1}`));
  } else if (/\.json$/i.test(file)) {
    const v = parse(content, "the file");
    if (!Array.isArray(v)) throw new UsageError("DATASET_PARSE", "a .json text file must hold an array of documents", { file });
    docs = v.map((r, i) => pick(r, `document ${i}`));
  } else {
    docs = content.replace(/\r\n?/g, "\n").split(/\n\s*\n/).map((p) => p.trim());
  }
  docs = docs.filter((d) => d.trim() !== "");
  if (docs.length === 0) throw new UsageError("DATASET_EMPTY", "the text file holds no document", { file });
  return docs;
}
