/**
 * Editing protocols: how a list of cases is edited into a model and when each case is evaluated.
 *
 * - "single": each case is edited into the original model alone and evaluated right away
 *   (ROME's CounterFact evaluation: one edit, measure, restore).
 * - "batch": cases are edited `batchSize` at a time into the original model (MEMIT's mass
 *   editing); each case is evaluated on the model holding its batch.
 * - "sequential": edits (in batches of `batchSize`, default 1) are applied one after another to
 *   the same, increasingly edited model — the patches compose (AlphaEdit's / lifelong editing's
 *   setting). Evaluation either right after each edit ("after-edit": case k sees edits 1..k) or
 *   once after all edits ("after-all": every case sees all N edits, as AlphaEdit reports).
 *
 * Every case is also scored on the unedited model ("pre"), which locality needs and which gives the
 * "vs unedited" columns. Each result records when it was evaluated and how many edits the model
 * held then, plus edit and evaluation times.
 *
 * A sequential stream can also be measured along the way (`streamAt`: after edit 1, 10, 100 …, as
 * EasyEdit's sequential_edit and the WISE paper's T = 1, 10, 100, 1000 tables): at each point T
 * the T cases edited so far are scored on the model holding those T edits, and the Frobenius norm
 * of every edited matrix (‖W + ΣΔ‖ for weight patches; each tensor of an attached module) is
 * recorded, since locate-and-edit methods collapse as those norms grow (Gupta et al. 2024).
 *
 * Editors of kind "memory" (types.ts: GRACE, WISE, ELDER) are given the start model at every call
 * and return their whole memory; the stream's model is the start model with the latest memory.
 */
import type { Model } from "../model/types.js";
import { applyPatch, composePatches, flattenPatch, type Patch } from "../model/patch.js";
import { moduleKind } from "../model/modules/index.js";
import { readF32 } from "../tensor/own.js";
import { aggregateMetrics, caseMetrics, referenceVectorizer, type MetricSet, type MetricSummary } from "../eval/editing/metrics.js";
import { scoreCases, type CaseScores, type ScoreCasesOptions } from "../eval/editing/score.js";
import type { TfidfVectorizer } from "../eval/editing/tfidf.js";
import { EditCaches } from "./caches.js";
import type { EditCase, EditContext, EditRequest, Editor } from "./types.js";

export type ProtocolMode = "single" | "batch" | "sequential";
export type EvalTiming = "after-edit" | "after-all";

export interface ProtocolOptions<H> {
  mode: ProtocolMode;
  /** Edits per editor call (batch and sequential modes; single is always 1). Default: all (batch), 1 (sequential). */
  batchSize?: number;
  /** Sequential mode only; default "after-all". */
  evaluate?: EvalTiming;
  hparams?: H;
  context?: EditContext;
  scoring?: ScoreCasesOptions;
  /** Called after each case's result is ready (progress, streaming JSON). */
  onResult?: (r: CaseResult, done: number, total: number) => void;
  /**
   * Sequential mode: where the edit stream's progress is kept, so a killed run resumes after its
   * last finished edit instead of from zero (the caller decides where and how it is stored).
   */
  checkpoint?: StreamCheckpoint;
  /**
   * Sequential mode: measure the stream after these numbers of edits (e.g. [1, 10, 100]); each
   * point is reached at the end of the first editor call that brings the count to it or past it.
   */
  streamAt?: number[];
}

/** The stream measured after `edits` edits: the edited cases' metrics then, and matrix norms. */
export interface StreamPoint {
  edits: number;
  summary: Record<string, MetricSummary>;
  /** Frobenius norm of each edited matrix (weight patches) or module tensor, by name. */
  norms: Record<string, number>;
}

/**
 * An edit stream's progress after `groupsDone` editor calls: every finished call's patch (applied
 * again in order on resume, so the resumed model is the same float for float), the editor's memory
 * (Editor.exportState), the unedited scores and the results evaluated so far.
 */
export interface StreamProgress {
  groupsDone: number;
  applied: number;
  /** Every call's patch in order ("compose" editors); the latest memory alone ("memory" editors). */
  patches: Patch[];
  editorState?: unknown;
  pre: CaseScores[];
  results: (CaseResult | null)[];
  editSecondsOf: number[];
  editTotal: number;
  evalTotal: number;
  stream?: StreamPoint[];
}

export interface StreamCheckpoint {
  load(): Promise<StreamProgress | undefined>;
  save(progress: StreamProgress): Promise<void>;
}

export interface CaseResult {
  id: string;
  source: string;
  request: EditRequest;
  mode: ProtocolMode;
  evaluatedAt: EvalTiming;
  /** Edits the model held when this case was evaluated. */
  editsApplied: number;
  /** Seconds of the editor call that made this case's edit (shared by a batch). */
  editSeconds: number;
  evalSeconds: number;
  pre: MetricSet;
  post: MetricSet;
  /** The edited model's generations (when generation metrics were asked for). */
  generations?: string[];
  /** The scores the metrics were computed from (mean-token NLLs, argmax flags, token accuracies). */
  scores: { pre: CaseScores; post: CaseScores };
}

export interface ProtocolResult {
  method: string;
  mode: ProtocolMode;
  evaluatedAt: EvalTiming;
  batchSize: number;
  cases: CaseResult[];
  summary: { pre: Record<string, MetricSummary>; post: Record<string, MetricSummary> };
  /** The last sequential model's patches composed (sequential mode), for saving. */
  patch?: Patch;
  /** Sequential mode with streamAt: the stream's points in order. */
  stream?: StreamPoint[];
  seconds: { edit: number; eval: number; total: number };
}

const now = () => performance.now() / 1000;

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export async function runProtocol<H>(model: Model, editor: Editor<H>, cases: readonly EditCase[], options: ProtocolOptions<H>): Promise<ProtocolResult> {
  const t0 = now();
  const hparams = options.hparams ?? editor.defaults(model.config);
  const mode = options.mode;
  const batchSize = mode === "single" ? 1 : options.batchSize ?? (mode === "batch" ? cases.length : 1);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const timing: EvalTiming = mode === "sequential" ? options.evaluate ?? "after-all" : "after-edit";
  const vec = referenceVectorizer(cases);
  // One set of caches for the whole run: covariance and context templates are computed once.
  const context: EditContext = { ...options.context, caches: options.context?.caches ?? new EditCaches() };
  const resumed = mode === "sequential" ? await options.checkpoint?.load() : undefined;
  const pre = resumed?.pre ?? (await scoreCases(model, cases, options.scoring));
  const results: CaseResult[] = resumed ? (resumed.results as CaseResult[]) : new Array(cases.length);
  let editTotal = resumed?.editTotal ?? 0;
  let evalTotal = resumed?.evalTotal ?? 0;
  let done = results.filter(Boolean).length;

  const evaluate = async (edited: Model, idx: number[], editsApplied: number, editSeconds: number) => {
    const te = now();
    const post = await scoreCases(edited, idx.map((i) => cases[i]!), options.scoring);
    const evalSeconds = (now() - te) / idx.length;
    evalTotal += now() - te;
    idx.forEach((i, k) => {
      results[i] = makeResult(cases[i]!, pre[i]!, post[k]!, vec, { mode, evaluatedAt: timing, editsApplied, editSeconds, evalSeconds });
      options.onResult?.(results[i]!, ++done, cases.length);
    });
  };

  const groups = chunks(cases.map((_, i) => i), batchSize);
  let patch: Patch | undefined;
  let streamPoints: StreamPoint[] | undefined;
  // Editors with memory of earlier edits (AlphaEdit's accumulated keys) start each independent
  // edit, and each sequential run, with a clean memory.
  const reset = () => (editor as { reset?: () => void }).reset?.();
  if (mode !== "sequential") {
    for (const idx of groups) {
      reset();
      const te = now();
      const p = await editor.edit(model, idx.map((i) => cases[i]!.request), hparams, context);
      const editSeconds = now() - te;
      editTotal += editSeconds;
      const edited = applyPatch(model, p);
      try {
        await evaluate(edited, idx, idx.length, editSeconds);
      } finally {
        edited.dispose();
      }
    }
  } else {
    // "compose": each step edits the current model and its patch is composed on; the previous
    // intermediate model is freed once the next holds its own references to the shared
    // parameters. "memory": each step edits the start model and its patch replaces the last.
    const memory = editor.sequential === "memory";
    reset();
    const patches: Patch[] = resumed?.patches ?? [];
    const editSecondsOf: number[] = resumed?.editSecondsOf ?? new Array(cases.length).fill(0);
    const stream: StreamPoint[] = resumed?.stream ?? [];
    const streamAt = [...new Set(options.streamAt ?? [])].filter((t) => t >= 1).sort((a, b) => a - b);
    let applied = resumed?.applied ?? 0;
    let groupsDone = resumed?.groupsDone ?? 0;
    if (resumed?.editorState !== undefined || (memory && patches.length)) editor.importState?.(resumed?.editorState, memory ? patches[0] : undefined);
    // A resumed stream re-applies the finished calls' patches, as they were applied.
    let current = patches.length ? applyPatch(model, composePatches(patches)) : model;
    try {
      for (const idx of groups.slice(groupsDone)) {
        const te = now();
        const p = await editor.edit(memory ? model : current, idx.map((i) => cases[i]!.request), hparams, context);
        const editSeconds = now() - te;
        editTotal += editSeconds;
        idx.forEach((i) => (editSecondsOf[i] = editSeconds));
        if (memory) patches.splice(0, patches.length, p);
        else patches.push(p);
        const next = applyPatch(memory ? model : current, p);
        if (current !== model) current.dispose();
        current = next;
        const before = applied;
        applied += idx.length;
        if (timing === "after-edit") await evaluate(current, idx, applied, editSeconds);
        if (streamAt.some((t) => t > before && t <= applied)) {
          const te2 = now();
          const scored = cases.slice(0, applied);
          const post = await scoreCases(current, scored, options.scoring);
          const metrics = scored.map((c, i) => caseMetrics(c, post[i]!, pre[i], vec));
          stream.push({ edits: applied, summary: aggregateMetrics(metrics), norms: await editedNorms(current, patches) });
          evalTotal += now() - te2;
        }
        await options.checkpoint?.save({
          groupsDone: ++groupsDone,
          applied,
          patches,
          editorState: editor.exportState?.(),
          pre,
          results: Array.from(results, (r) => r ?? null),
          editSecondsOf,
          editTotal,
          evalTotal,
          stream,
        });
      }
      if (timing === "after-all") {
        for (const idx of chunks(cases.map((_, i) => i), 64)) {
          await evaluateWithEditTimes(idx);
        }
      }
    } finally {
      if (current !== model) current.dispose();
    }
    patch = memory ? patches[0] : composePatches(patches, { method: `${editor.name} (sequential, ${patches.length} steps)` });
    streamPoints = stream;

    async function evaluateWithEditTimes(idx: number[]) {
      const te = now();
      const post = await scoreCases(current, idx.map((i) => cases[i]!), options.scoring);
      const evalSeconds = (now() - te) / idx.length;
      evalTotal += now() - te;
      idx.forEach((i, k) => {
        results[i] = makeResult(cases[i]!, pre[i]!, post[k]!, vec, { mode, evaluatedAt: timing, editsApplied: applied, editSeconds: editSecondsOf[i]!, evalSeconds });
        options.onResult?.(results[i]!, ++done, cases.length);
      });
    }
  }
  return {
    method: editor.name,
    mode,
    evaluatedAt: timing,
    batchSize,
    cases: results,
    summary: { pre: aggregateMetrics(results.map((r) => r.pre)), post: aggregateMetrics(results.map((r) => r.post)) },
    patch,
    ...(streamPoints?.length ? { stream: streamPoints } : {}),
    seconds: { edit: editTotal, eval: evalTotal, total: now() - t0 },
  };
}

/**
 * Frobenius norms of what the patches change: every weight-patched matrix as it is in `model`
 * (W + ΣΔ), and every tensor an attached module holds (GRACE's values, WISE's side memory).
 */
async function editedNorms(model: Model, patches: readonly Patch[]): Promise<Record<string, number>> {
  const norms: Record<string, number> = {};
  const frob = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0));
  for (const leaf of patches.flatMap(flattenPatch)) {
    if (leaf.type === "weights") {
      for (const name of Object.keys(leaf.deltas)) if (!(name in norms)) norms[name] = frob(await readF32(model.params[name]!.ref));
    } else if (leaf.type === "module") {
      for (const [name, t] of Object.entries(moduleKind(leaf.module.kind).encode(leaf.module).tensors)) norms[`${leaf.module.kind}.${name}`] = frob(t.data);
    }
  }
  return norms;
}

function makeResult(
  c: EditCase,
  pre: CaseScores,
  post: CaseScores,
  vec: TfidfVectorizer | undefined,
  when: Pick<CaseResult, "mode" | "evaluatedAt" | "editsApplied" | "editSeconds" | "evalSeconds">,
): CaseResult {
  return {
    id: c.id,
    source: c.source,
    request: c.request,
    ...when,
    pre: caseMetrics(c, pre, undefined, vec),
    post: caseMetrics(c, post, pre, vec),
    ...(post.generations ? { generations: post.generations } : {}),
    scores: { pre, post },
  };
}
