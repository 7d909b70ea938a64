/**
 * Per-case JSON records in the layout the reference code writes, so analysis scripts written for
 * it (rome/experiments/summarize.py, the seesaw study's eval scripts) read scalpel runs unchanged.
 *
 * MEMIT's experiments/evaluate.py writes one file per case, `{num_edits}_edits-case_{case_id}.json`:
 *   { case_id, grouped_case_ids, num_edits, requested_rewrite, time,
 *     post: ds_eval_method(edited model, …), pre: ds_eval_method(unedited model, …) }
 * and compute_rewrite_quality_counterfact (experiments/py/eval_utils_counterfact.py) returns
 *   { rewrite_prompts_probs, paraphrase_prompts_probs, neighborhood_prompts_probs:
 *       [{ target_new: mean-token NLL, target_true: mean-token NLL }] per prompt,
 *     rewrite_prompts_correct, paraphrase_prompts_correct, neighborhood_prompts_correct:
 *       [every expected-target token is the argmax] per prompt (target_new for the first two,
 *       target_true for neighbours),
 *     ngram_entropy, reference_score, text }   (the last three only with generation)
 * ("probs" are NLLs there too: summarize.py compares them with `<`, smaller is likelier.)
 *
 * With the seesaw study's scoring (eval/editing/seesaw.ts) pre and post also hold flextape's
 * attribute_prompts_probs / attribute_prompts_correct (target_true all-argmax, as its
 * which_correct marks attribute prompts) and `choice_probes` (the pair experiment's candidates).
 *
 * Additions (ignored by those scripts, which read pre/post only): `metrics`, scalpel's named
 * per-case metrics pre and post; `edits_applied`, `mode` and `evaluated_at` of the protocol.
 * reference_score is written as scalpel's attribute_similarity, whose definition differs (see
 * eval/editing/metrics.ts), and is named so in `metrics`.
 */
import type { EditCase } from "../data/editing/case.js";
import type { PairScore } from "../eval/editing/counterfact.js";
import type { CaseScores, ChoiceScore } from "../eval/editing/score.js";
import type { MetricSet } from "../eval/editing/metrics.js";
import type { CaseResult, ProtocolResult } from "./protocol.js";

export interface RewriteQuality {
  rewrite_prompts_probs: { target_new: number; target_true: number }[];
  paraphrase_prompts_probs: { target_new: number; target_true: number }[];
  neighborhood_prompts_probs: { target_new: number; target_true: number }[];
  rewrite_prompts_correct: boolean[];
  paraphrase_prompts_correct: boolean[];
  neighborhood_prompts_correct: boolean[];
  ngram_entropy?: number;
  reference_score?: number;
  text?: string[];
  /** The seesaw study's additions (flextape's compute_rewrite_quality_counterfact), when scored. */
  attribute_prompts_probs?: { target_new: number; target_true: number }[];
  attribute_prompts_correct?: boolean[];
  /** Closed-answer probes: summed log-probabilities of each candidate (the seesaw pair experiment). */
  choice_probes?: ChoiceScore[];
}

export interface CaseRecord {
  case_id: number | string;
  grouped_case_ids: (number | string)[];
  num_edits: number;
  requested_rewrite: { prompt: string; subject: string; target_new: { str: string }; target_true?: { str: string } };
  time: number;
  post: RewriteQuality;
  pre: RewriteQuality;
  metrics: { pre: MetricSet; post: MetricSet };
  edits_applied: number;
  mode: CaseResult["mode"];
  evaluated_at: CaseResult["evaluatedAt"];
}

/** A dataset's numeric ids stay numbers (the reference files' case_id is an int). */
function caseId(id: string): number | string {
  return /^(0|[1-9]\d*)$/.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : id;
}

const probs = (pairs: readonly PairScore[]) => pairs.map((p) => ({ target_new: p.nllNew, target_true: p.nllTrue }));

function rewriteQuality(s: CaseScores, m: MetricSet): RewriteQuality {
  return {
    rewrite_prompts_probs: probs(s.rewrite),
    paraphrase_prompts_probs: probs(s.paraphrase),
    neighborhood_prompts_probs: probs(s.neighborhood),
    rewrite_prompts_correct: s.rewrite.map((p) => p.newCorrect),
    paraphrase_prompts_correct: s.paraphrase.map((p) => p.newCorrect),
    neighborhood_prompts_correct: s.neighborhood.map((p) => p.trueCorrect),
    ...(m.generation_entropy !== undefined ? { ngram_entropy: m.generation_entropy } : {}),
    ...(m.attribute_similarity !== undefined ? { reference_score: m.attribute_similarity } : {}),
    ...(s.generations ? { text: s.generations } : {}),
    ...(s.attribute ? { attribute_prompts_probs: probs(s.attribute), attribute_prompts_correct: s.attribute.map((p) => p.trueCorrect) } : {}),
    ...(s.choices ? { choice_probes: s.choices } : {}),
  };
}

/**
 * One record per case. Cases edited by the same editor call share `grouped_case_ids` and
 * `num_edits` (single mode: the case alone; batch and sequential: its call's batch, in the order
 * the protocol chunks the cases). `cases` is the list the protocol ran, in its order.
 */
export function caseRecords(result: Pick<ProtocolResult, "cases" | "batchSize">, cases: readonly EditCase[]): { file: string; record: CaseRecord }[] {
  if (cases.length !== result.cases.length) throw new RangeError(`caseRecords: ${result.cases.length} results for ${cases.length} cases`);
  return result.cases.map((r, i) => {
    const start = i - (i % result.batchSize);
    const group = cases.slice(start, start + result.batchSize).map((c) => caseId(c.id));
    const req = r.request;
    const record: CaseRecord = {
      case_id: caseId(r.id),
      grouped_case_ids: group,
      num_edits: group.length,
      requested_rewrite: { prompt: req.prompt, subject: req.subject, target_new: { str: req.targetNew }, ...(req.targetTrue !== undefined ? { target_true: { str: req.targetTrue } } : {}) },
      time: r.editSeconds,
      post: rewriteQuality(r.scores.post, r.post),
      pre: rewriteQuality(r.scores.pre, r.pre),
      metrics: { pre: r.pre, post: r.post },
      edits_applied: r.editsApplied,
      mode: r.mode,
      evaluated_at: r.evaluatedAt,
    };
    return { file: `${group.length}_edits-case_${safeFileId(r.id)}.json`, record };
  });
}

/** Ids become file names: anything but letters, digits, '-', '_' and '.' is replaced. */
function safeFileId(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]/g, "_");
  return s === "" || s === "." || s === ".." ? `_${s}` : s;
}

/** Write every record into `dir` (atomically, one file each); returns the file names. */
export async function writeCaseRecords(dir: string, result: Pick<ProtocolResult, "cases" | "batchSize">, cases: readonly EditCase[]): Promise<string[]> {
  const [{ mkdir }, path, { writeFileAtomic }] = await Promise.all([import("node:fs/promises"), import("node:path"), import("../io/atomic.js")]);
  await mkdir(dir, { recursive: true });
  const records = caseRecords(result, cases);
  const names = new Set<string>();
  for (const { file, record } of records) {
    if (names.has(file)) throw new RangeError(`two cases write ${file}: case ids must be unique`);
    names.add(file);
    await writeFileAtomic(path.join(dir, file), JSON.stringify(record, null, 1));
  }
  return records.map((r) => r.file);
}
