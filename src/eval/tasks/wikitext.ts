/**
 * WikiText-2 perplexity (Merity et al., 2016) as lm-evaluation-harness's `wikitext` task
 * (lm_eval/tasks/wikitext/wikitext.yaml and preprocess_wikitext.py at lm-eval commit 4e7e0d47,
 * version 2.0): dataset EleutherAI/wikitext_document_level, wikitext-2-raw-v1, test split; each page
 * is one document, detokenized by wikitext_detokenizer (below) and scored whole. Two window schemes:
 *
 * - `wikitext` (lm-eval's): output_type loglikelihood_rolling, i.e. HFLM.loglikelihood_rolling
 *   (lm_eval/models/huggingface.py) with lm_eval/utils.py get_rolling_token_windows +
 *   make_disjoint_window, context_len = 1: the page's tokens (no special tokens) cut into disjoint
 *   windows of max_length predicted tokens; the first window's first token is conditioned on the
 *   prefix token (BOS, else EOS); each later window on the tokens just before it that fill its input
 *   to max_length (one token for a full window, more for the last, shorter one); every token scored
 *   exactly once, no token scored twice (rolling.ts). max_length = `--max-length`, default the
 *   model's context window.
 * - `wikitext-strided`: the Hugging Face guide's sliding window (perplexity.ts), stride default
 *   max_length / 2 (`--stride`), BOS/EOS prefix so every token is scored too, with more left context.
 *
 * Words and bytes are counted on the page *before* detokenization, as lm-eval's process_results:
 *   word_perplexity = exp(−Σ ll / Σ words), byte_perplexity = exp(−Σ ll / Σ bytes),
 *   bits_per_byte = −Σ ll / Σ bytes / ln 2; plus token_perplexity = exp(−Σ ll / Σ tokens scored)
 *   (not an lm-eval metric).
 */
import type { Task } from "../types.js";
import { textPerplexityTask } from "./text-perplexity.js";

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
  /** Window length (default: the model's context window); lm-eval's max_length. */
  maxLength?: number;
  /** `wikitext-strided` only: window step (default maxLength / 2). */
  stride?: number;
  /** "rolling" (default): lm-eval's loglikelihood_rolling, task `wikitext`; "strided": `wikitext-strided`. */
  windows?: "rolling" | "strided";
}

export function wikitextTask(articles: readonly string[], opts: WikitextOptions = {}): Task {
  const rolling = (opts.windows ?? "rolling") === "rolling";
  return textPerplexityTask(articles, {
    ...opts,
    name: rolling ? "wikitext" : "wikitext-strided",
    version: "2.0",
    detokenize: wikitextDetokenize,
    describe: "each page detokenized (lm-eval wikitext_detokenizer); words and bytes counted before detokenization",
  });
}

/** Python's str.strip() whitespace (str.isspace), which differs from JavaScript's \s at the edges. */
const PY_STRIP = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
const pyStrip = (s: string) => s.replace(PY_STRIP, "");

/**
 * Split the raw WikiText file into pages exactly as EleutherAI/wikitext_document_level's dataset
 * script does (wikitext_document_level.py, Wikitext._generate_examples; found through the code
 * search index, a "modified version of datasets/wikitext/wikitext.py that returns Wiki pages"):
 *
 *     data = f.read().split("\n")          # open() in text mode: CRLF / CR read as "\n"
 *     for line in data:
 *         rline = line.replace("= = =", "===").replace("= =", "==").strip()
 *         if rline.startswith("= ") and rline.strip().endswith(" ="):
 *             page = "\n".join(ret)
 *             if page.strip(): yield page
 *             ret = []
 *         ret.append(line)
 *     yield "\n".join(ret)                 # the last page, always (with the file's final "")
 *
 * So a page starts at a top-level " = Title = " line (not " = = Section = = "), keeps every line
 * up to the next one — blank " " lines included, joined with "\n" — and text before the first
 * heading is a page of its own only if it is not blank. (The copy in ../shared/data has its blank
 * lines removed, SOURCES.md; on it the pages equal the original's minus those lines: the word
 * counts are unchanged — whitespace runs only shorten — bytes and tokens a little fewer.)
 */
export function splitWikitextArticles(raw: string): string[] {
  const lines = raw.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let ret: string[] = [];
  for (const line of lines) {
    const rline = pyStrip(line.split("= = =").join("===").split("= =").join("=="));
    if (rline.startsWith("= ") && rline.endsWith(" =")) {
      const page = ret.join("\n");
      if (pyStrip(page) !== "") out.push(page);
      ret = [];
    }
    ret.push(line);
  }
  out.push(ret.join("\n"));
  return out;
}
