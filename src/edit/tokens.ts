/**
 * Tokenising edit prompts the way ROME's code does: prompts are encoded as the tokenizer's
 * `__call__` would (special tokens as configured), the "fact token" is the subject's last token
 * (ROME/MEMIT fact_token = "subject_last", repr_tools.get_words_idxs_in_templates), and a target
 * is appended with a leading space and teacher-forced (compute_v's rewriting prompts end with
 * tok.decode(target_ids[:-1])).
 */
import { ConfigError } from "../errors.js";
import type { Tokenizer } from "../io/tokenizer/types.js";

/** Encode with special tokens, minus a trailing EOS (a prompt is continued, never ended). */
export function encodePrompt(tok: Tokenizer, text: string): number[] {
  const ids = tok.encode(text, { addSpecialTokens: true }).ids;
  if (ids.length > 1 && tok.eosId !== undefined && ids[ids.length - 1] === tok.eosId) ids.pop();
  return ids;
}

/** Replace the first "{}" of a template (ROME's str.format with one argument). */
export function fill(template: string, value: string): string {
  const i = template.indexOf("{}");
  if (i < 0) throw new ConfigError("EDIT_TEMPLATE", `prompt ${JSON.stringify(template)} has no "{}" where the subject goes`, { field: "prompt", fix: 'write the subject\'s place as "{}", e.g. "{} was born in"' });
  return template.slice(0, i) + value + template.slice(i + 2);
}

/**
 * Ids of `template` filled with `subject`, and the index of the subject's last token: the length
 * of the encoding of everything up to the subject's end, minus one (get_words_idxs_in_templates).
 */
export function subjectLastIndex(tok: Tokenizer, template: string, subject: string): { ids: number[]; index: number } {
  const i = template.indexOf("{}");
  if (i < 0) fill(template, subject);
  const ids = encodePrompt(tok, fill(template, subject));
  const upTo = encodePrompt(tok, template.slice(0, i) + subject);
  const index = upTo.length - 1;
  if (index < 0 || index >= ids.length) throw new ConfigError("EDIT_SUBJECT", `cannot locate subject ${JSON.stringify(subject)} in ${JSON.stringify(template)}`, { field: "subject" });
  return { ids, index };
}

/** Target ids as a continuation of a prompt (" target", the prompt's own tokens unchanged). */
export function targetIds(tok: Tokenizer, promptText: string, target: string): number[] {
  const t = target.startsWith(" ") ? target : " " + target;
  const ctx = encodePrompt(tok, promptText);
  const whole = encodePrompt(tok, promptText + t);
  const cont = whole.slice(ctx.length);
  if (cont.length === 0) throw new ConfigError("EDIT_TARGET", `target ${JSON.stringify(target)} encodes to no tokens after ${JSON.stringify(promptText)}`, { field: "targetNew" });
  return cont;
}

/**
 * Right-padded batch: rows, attention mask; the length is the longest row's, rounded up to a
 * multiple of `multiple`. Right padding keeps every real token at its own position (causal
 * attention never sees the pads after it), so indices stay as computed.
 */
export function padRight(rows: number[][], padId: number, multiple = 1): { tokens: number[][]; mask: number[][] } {
  const T = Math.ceil(Math.max(...rows.map((r) => r.length)) / multiple) * multiple;
  return {
    tokens: rows.map((r) => [...r, ...new Array<number>(T - r.length).fill(padId)]),
    mask: rows.map((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(T - r.length).fill(0)]),
  };
}

export function padIdOf(tok: Tokenizer): number {
  return tok.padId ?? tok.eosId ?? 0;
}

/** A teacher-forced batch of prompt + " target" rows: what an edit's NLL is computed on. */
export interface TeacherForcedBatch {
  /** Right-padded prompt + target[:-1] rows, and their attention mask. */
  tokens: number[][];
  mask: number[][];
  /** [rows·T] the target token each position predicts (0 where none) and its loss weight. */
  targets: Int32Array;
  weights: Float32Array;
  /** Per row, the last prompt token (HookContext.queryPositions: the edit's key). */
  queryPositions: number[];
  T: number;
}

/**
 * prompt + " target" rows with the target tokens scored where they follow the prompt. Weights:
 * "per-row" = 1/(|target|·rows), the mean over rows of each row's mean NLL (ROME, FT, ELDER);
 * "per-token" = 1/(all target tokens), the masked mean of MEND's losses.py.
 */
export function teacherForcedBatch(tok: Tokenizer, items: readonly { prompt: string; target: string }[], weighting: "per-row" | "per-token"): TeacherForcedBatch {
  const rows: number[][] = [];
  const queryPositions: number[] = [];
  const scored: { at: [number, number]; id: number; w: number }[] = [];
  items.forEach((it, b) => {
    const prompt = encodePrompt(tok, it.prompt);
    const target = targetIds(tok, it.prompt, it.target);
    rows.push([...prompt, ...target.slice(0, -1)]);
    queryPositions.push(prompt.length - 1);
    target.forEach((id, j) => scored.push({ at: [b, prompt.length - 1 + j], id, w: 1 / (target.length * items.length) }));
  });
  const { tokens, mask } = padRight(rows, padIdOf(tok));
  const T = tokens[0]!.length;
  const targets = new Int32Array(rows.length * T);
  const weights = new Float32Array(rows.length * T);
  for (const s of scored) {
    targets[s.at[0] * T + s.at[1]] = s.id;
    weights[s.at[0] * T + s.at[1]] = weighting === "per-row" ? s.w : 1 / scored.length;
  }
  return { tokens, mask, targets, weights, queryPositions, T };
}
