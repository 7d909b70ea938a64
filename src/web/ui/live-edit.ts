/**
 * The edit view's work without the DOM (browser-safe, tested in Node): make one knowledge edit on
 * the lab's current model (base ⊕ applied patches), apply it to the session, and measure the edited
 * prompt, a paraphrase and a neighbour before and after — the greedy answer and the probabilities
 * of the new and the true target, as the CLI demo (cli/demo/edit.ts) and ROME's metrics do.
 */
import { counterFactCase } from "../../data/editing/counterfact.js";
import type { EditCase } from "../../data/editing/case.js";
import type { EditCaches } from "../../edit/caches.js";
import { getEditor } from "../../edit/registry.js";
import type { EditContext, EditRequest } from "../../edit/types.js";
import { scoreCases } from "../../eval/editing/score.js";
import { generate } from "../../model/generate.js";
import type { Patch } from "../../model/patch.js";
import type { Model } from "../../model/types.js";
import type { LabSession } from "./session.js";

export const EDIT_METHODS = ["rome", "memit"] as const;
export type EditMethod = (typeof EDIT_METHODS)[number];

/** What the form holds: the request, and the probes measured around it (blank = not measured). */
export interface EditForm {
  subject: string;
  /** The relation with "{}" where the subject goes, e.g. "{} was born in". */
  prompt: string;
  targetNew: string;
  /** Blank: the model's answer to the edited prompt before the edit. */
  targetTrue: string;
  paraphrase: string;
  neighbour: string;
}

export type ProbeKind = "prompt" | "paraphrase" | "neighbour";

export interface Probe {
  kind: ProbeKind;
  text: string;
}

/** One probe measured on one model. */
export interface ProbeScore {
  /** Greedy continuation. */
  answer: string;
  /** Geometric-mean token probability of " targetNew" / " targetTrue" after the probe (ROME's "P"). */
  pNew: number;
  pTrue: number;
}

export interface ProbeRow extends Probe {
  before: ProbeScore;
  after: ProbeScore;
}

export interface EditOutcome {
  label: string;
  patch: Patch;
  request: Required<EditRequest>;
  rows: ProbeRow[];
  /** Wall time of the editor alone (covariance included the first time), seconds. */
  editSeconds: number;
}

/** Tokens of each greedy answer: enough for a one- or two-word object. */
const ANSWER_TOKENS = 4;

/** The form pre-filled from the first record of a ROME-format CounterFact file (the served model's data/counterfact.json). */
export function formFromCounterFact(records: unknown, file: string): EditForm {
  if (!Array.isArray(records) || records.length === 0) throw new Error(`${file}: expected a non-empty JSON array of CounterFact records`);
  const c = counterFactCase(file, 0, records[0]);
  return {
    subject: c.request.subject,
    prompt: c.request.prompt,
    targetNew: c.request.targetNew,
    targetTrue: c.request.targetTrue ?? "",
    paraphrase: c.paraphrasePrompts[0] ?? "",
    neighbour: c.neighborhoodPrompts[0] ?? "",
  };
}

/** The probes of a form, subject filled in; blank probes are left out. */
export function probesOf(form: EditForm): Probe[] {
  const all: Probe[] = [
    { kind: "prompt", text: form.prompt.replace("{}", form.subject.trim()) },
    { kind: "paraphrase", text: form.paraphrase.trim() },
    { kind: "neighbour", text: form.neighbour.trim() },
  ];
  return all.filter((p) => p.text.length > 0);
}

function checkForm(form: EditForm): void {
  if (!form.subject.trim()) throw new Error("give the subject the edit is about");
  if (!form.prompt.includes("{}")) throw new Error('the relation prompt needs "{}" where the subject goes, e.g. "{} was born in"');
  if (!form.targetNew.trim()) throw new Error("give the new target");
}

/** Greedy continuations of `probes` on `model`. */
async function greedyAnswers(model: Model, probes: readonly Probe[]): Promise<string[]> {
  const { texts } = await generate(model, probes.map((p) => p.text), { maxNewTokens: ANSWER_TOKENS });
  return texts.map((t) => t.trim());
}

/** P(" targetNew") and P(" targetTrue") after each probe, scored by scoreCases exactly as the CounterFact metrics are. */
async function targetProbabilities(model: Model, probes: readonly Probe[], request: Required<EditRequest>): Promise<{ pNew: number; pTrue: number }[]> {
  const byKind = (k: ProbeKind) => probes.filter((p) => p.kind === k).map((p) => p.text);
  const c: EditCase = {
    id: "lab",
    request,
    paraphrasePrompts: byKind("paraphrase"),
    neighborhoodPrompts: byKind("neighbour"),
    attributePrompts: [],
    generationPrompts: [],
    locality: [],
    portability: [],
    source: "lab",
  };
  const [s] = await scoreCases(model, [c]);
  const pairs = { prompt: s!.rewrite, paraphrase: s!.paraphrase, neighbour: s!.neighborhood };
  const seen: Record<ProbeKind, number> = { prompt: 0, paraphrase: 0, neighbour: 0 };
  return probes.map((p) => {
    const pair = pairs[p.kind][seen[p.kind]++]!;
    return { pNew: Math.exp(-pair.nllNew), pTrue: Math.exp(-pair.nllTrue) };
  });
}

/** The first word of an answer: the fallback true target when the form leaves it blank. */
const firstWord = (answer: string) => answer.trim().split(/\s+/)[0] ?? "";

export interface LiveEditOptions {
  method: EditMethod;
  /** Kept for the page's lifetime: the covariance is computed once per base model. */
  caches: EditCaches;
  /** Covariance statistics already computed elsewhere (the lab server's cache: stats-store.ts). */
  statsStore?: EditContext["statsStore"];
  onProgress?: EditContext["onProgress"];
  /** Hyperparameters over the editor's defaults for the model (tests use fewer steps). */
  hparams?: Record<string, unknown>;
}

/**
 * Edit `session.model` (base ⊕ applied patches), apply the patch to the session, and measure the
 * probes before and after. The session is unchanged when the editor throws.
 */
export async function editAndMeasure(session: LabSession, form: EditForm, options: LiveEditOptions): Promise<EditOutcome> {
  checkForm(form);
  const probes = probesOf(form);
  const model = session.model;
  const answersBefore = await greedyAnswers(model, probes);
  const targetTrue = form.targetTrue.trim() || firstWord(answersBefore[0]!);
  if (!targetTrue) throw new Error("give the true target (the model answers the edited prompt with nothing)");
  const request: Required<EditRequest> = { prompt: form.prompt, subject: form.subject.trim(), targetNew: form.targetNew.trim(), targetTrue };
  const pBefore = await targetProbabilities(model, probes, request);
  const editor = getEditor(options.method);
  const hp = { ...editor.defaults(model.config), ...options.hparams };
  const t0 = performance.now();
  const context: EditContext = { caches: options.caches, ...(options.statsStore ? { statsStore: options.statsStore } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
  const patch = await editor.edit(model, [request], hp, context);
  const editSeconds = (performance.now() - t0) / 1000;
  const label = `${options.method.toUpperCase()}: ${request.subject} → ${request.targetNew}`;
  session.apply(label, patch);
  const [answersAfter, pAfter] = [await greedyAnswers(session.model, probes), await targetProbabilities(session.model, probes, request)];
  const rows = probes.map((p, i) => ({ ...p, before: { answer: answersBefore[i]!, ...pBefore[i]! }, after: { answer: answersAfter[i]!, ...pAfter[i]! } }));
  return { label, patch, request, rows, editSeconds };
}
