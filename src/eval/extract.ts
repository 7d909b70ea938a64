/**
 * Answer extraction and exact match for generation tasks, as lm-evaluation-harness does it for
 * GSM8K (lm_eval/tasks/gsm8k/gsm8k.yaml, lm_eval/filters/extraction.py RegexFilter,
 * lm_eval/api/metrics.py exact_match → HF evaluate's exact_match):
 *
 * - "strict-match": regex `#### (\-?[0-9\.\,]+)`, first match;
 * - "flexible-extract": regex `(-?[$0-9.,]{2,})|(-?[0-9]+)`, group_select −1 (the last match), the
 *   first non-empty group of that match;
 * - no match → "[invalid]"; the match is stripped of surrounding whitespace;
 * - exact_match: each of regexes_to_ignore [",", "\$", "(?s).*#### ", "\.$"] is removed (every
 *   occurrence, re.sub) from prediction and reference alike, both lower-cased (ignore_case), then
 *   compared for equality. The reference is the full GSM8K answer, reduced to its number by
 *   "(?s).*#### ".
 */

export const INVALID = "[invalid]";

export interface RegexFilter {
  name: string;
  /** JavaScript regular expression source (a leading "(?s)" is accepted and means the s flag). */
  pattern: string;
  /** Which match to keep: 0 the first (default), −1 the last (Python indexing). */
  groupSelect?: number;
}

export const GSM8K_FILTERS: RegexFilter[] = [
  { name: "strict-match", pattern: "#### (\\-?[0-9\\.\\,]+)" },
  { name: "flexible-extract", pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)", groupSelect: -1 },
];

export const GSM8K_IGNORE = [",", "\\$", "(?s).*#### ", "\\.$"];

/** Compile a Python-flavoured pattern: a leading inline "(?s)" / "(?i)" becomes a JS flag. */
export function compileRegex(pattern: string, global = false): RegExp {
  let flags = global ? "g" : "";
  let src = pattern;
  for (;;) {
    const m = /^\(\?([is]+)\)/.exec(src);
    if (!m) break;
    for (const f of m[1]!) if (!flags.includes(f)) flags += f;
    src = src.slice(m[0].length);
  }
  return new RegExp(src, flags);
}

/** lm-eval RegexFilter on one response: Python re.findall semantics (groups → tuple → first non-empty). */
export function applyRegexFilter(text: string, filter: RegexFilter): string {
  const re = compileRegex(filter.pattern, true);
  const matches = [...text.matchAll(re)];
  if (matches.length === 0) return INVALID;
  const sel = filter.groupSelect ?? 0;
  const m = matches[sel < 0 ? matches.length + sel : sel];
  if (!m) return INVALID;
  const groups = m.slice(1);
  let value: string;
  if (groups.length === 0) value = m[0];
  else if (groups.length === 1) value = groups[0] ?? "";
  else {
    const nonEmpty = groups.filter((g): g is string => g !== undefined && g !== "");
    if (nonEmpty.length === 0) return INVALID;
    value = nonEmpty[0]!;
  }
  return value.trim();
}

export interface ExactMatchOptions {
  ignoreCase?: boolean;
  regexesToIgnore?: string[];
  ignorePunctuation?: boolean;
}

/** HF evaluate exact_match for one prediction/reference pair: 1 or 0. */
export function exactMatch(prediction: string, reference: string, opts: ExactMatchOptions = {}): number {
  let p = prediction;
  let r = reference;
  for (const s of opts.regexesToIgnore ?? []) {
    const re = compileRegex(s, true);
    p = p.replace(re, "");
    r = r.replace(re, "");
  }
  if (opts.ignoreCase) {
    p = p.toLowerCase();
    r = r.toLowerCase();
  }
  if (opts.ignorePunctuation) {
    const punct = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
    p = p.replace(punct, "");
    r = r.replace(punct, "");
  }
  return p === r ? 1 : 0;
}
