/**
 * WikiText-2 perplexity (Merity et al., 2016) as lm-evaluation-harness's `wikitext` task
 * (lm_eval/tasks/wikitext: document-level wikitext-2-raw-v1 test, version 2): each article is one
 * document, detokenized by wikitext_detokenizer (below) and scored whole with the sliding window of
 * perplexity.ts (BOS/EOS prefix, so every token counts, as loglikelihood_rolling); words and bytes
 * are counted on the article *before* detokenization, as lm-eval does:
 *   word_perplexity = exp(−Σ ll / Σ words), byte_perplexity = exp(−Σ ll / Σ bytes),
 *   bits_per_byte = −Σ ll / Σ bytes / ln 2, token_perplexity = exp(−Σ ll / Σ tokens scored).
 */
import { countBytes, countWords } from "../perplexity.js";
import type { Instance, PerplexityResponse, Task } from "../types.js";

/** lm-eval's wikitext_detokenizer (preprocess_wikitext.py), rule for rule. */
export function wikitextDetokenize(s: string): string {
  s = s.split("s '").join("s'");
  s = s.replace(/\/' [0-9]\//g, "/'[0-9]/");
  s = s.split(" @-@ ").join("-").split(" @,@ ").join(",").split(" @.@ ").join(".");
  for (const p of [":", ";", ".", "!", "?", ","]) s = s.split(` ${p} `).join(`${p} `);
  s = s.replace(/\(\s*([^)]*?)\s*\)/g, "($1)");
  s = s.replace(/\[\s*([^\]]*?)\s*\]/g, "[$1]");
  s = s.replace(/{\s*([^}]*?)\s*}/g, "{$1}");
  s = s.replace(/"\s*([^"]*?)\s*"/g, '"$1"');
  s = s.replace(/'\s*([^']*?)\s*'/g, "'$1'");
  s = s.split("= = = =").join("====").split("= = =").join("===").split("= =").join("==");
  s = s.split(" \u00b0 ").join("\u00b0");
  s = s.split(" \n").join("\n").split("\n ").join("\n");
  s = s.split(" N ").join(" 1 ");
  s = s.split(" 's").join("'s");
  return s;
}

export interface WikitextOptions {
  /** Window length (default: the model's context window). */
  maxLength?: number;
  /** Window step (default maxLength / 2). */
  stride?: number;
}

export function wikitextTask(articles: readonly string[], opts: WikitextOptions = {}): Task {
  const instance = (page: string, i: number): Instance => {
    const words = countWords(page);
    const bytes = countBytes(page);
    return {
      id: String(i),
      prompt: "",
      target: page.slice(0, 80) + (page.length > 80 ? "…" : ""),
      requests: [{ type: "perplexity", text: wikitextDetokenize(page), prefix: true, ...(opts.maxLength ? { maxLength: opts.maxLength } : {}), ...(opts.stride ? { stride: opts.stride } : {}) }],
      score: (rs) => {
        const r = rs[0] as PerplexityResponse;
        return { word_perplexity: [r.ll, words], byte_perplexity: [r.ll, bytes], bits_per_byte: [r.ll, bytes], token_perplexity: [r.ll, r.nTokens] };
      },
    };
  };
  return {
    name: "wikitext",
    version: "2.0",
    promptFormat: `each article detokenized (lm-eval wikitext_detokenizer), scored whole: sliding window of ${opts.maxLength ?? "n_ctx"} tokens, stride ${opts.stride ?? "n_ctx/2"}, BOS/EOS prefix`,
    fewshot: { n: 0, split: "none", sampler: "none", seed: 0 },
    metrics: {
      word_perplexity: { aggregation: "weighted_perplexity", higherIsBetter: false, definition: "exp(−Σ_docs ll / Σ_docs words), words = len(re.split(r'\\s+', page)) before detokenization (lm-eval)" },
      byte_perplexity: { aggregation: "weighted_perplexity", higherIsBetter: false, definition: "exp(−Σ ll / Σ UTF-8 bytes of the page) (lm-eval)" },
      bits_per_byte: { aggregation: "bits_per_byte", higherIsBetter: false, definition: "−Σ ll / Σ bytes / ln 2 (lm-eval)" },
      token_perplexity: { aggregation: "weighted_perplexity", higherIsBetter: false, definition: "exp(−Σ ll / Σ tokens scored): the HF guide's sliding-window perplexity" },
    },
    size: articles.length,
    instances: (limit) => articles.slice(0, limit ?? articles.length).map(instance),
  };
}

/** Split the raw WikiText file into articles: CRLF → LF, a top-level " = Title = " line starts one. */
export function splitWikitextArticles(raw: string): string[] {
  const lines = raw.replace(/\r\n?/g, "\n").split("\n");
  const out: string[][] = [];
  for (const line of lines) {
    if (line.trim() === "") continue;
    if (/^ = [^=].* = $/.test(line) || out.length === 0) out.push([]);
    out.at(-1)!.push(line);
  }
  return out.map((ls) => ls.join("\n"));
}
