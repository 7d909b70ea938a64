/**
 * CAA's contrastive A/B items (Rimsky et al. 2024, "Steering Llama 2 via Contrastive Activation
 * Addition"; github.com/nrimsky/CAA, datasets/generate/<behavior>/generate_dataset.json and
 * datasets/test/<behavior>/test_dataset_ab.json): a question listing the choices "(A) …" / "(B) …",
 * the answer that shows the behaviour ("(A)" or "(B)") and the one that does not.
 *
 * CAA reads activations at the answer letter: the model input is the question followed by the
 * answer "(A)", and generate_vectors.py takes position −2 (the "A" token, before ")"). Tokenizers
 * differ ("(A)" may be three BPE tokens or, in the fact world's word-level vocabulary, "( A )"), so
 * the letter's token is found from the tokenizer's character offsets, not by counting from the end.
 * The A/B score's context is everything before that token, and the two candidates are the letter
 * tokens of the two answers (CAA's get_a_b_probs reads p("A") and p("B") after "(").
 *
 * The model text follows a named prompt format (plain, or CAA's base / chat formats; see
 * AB_PROMPT_FORMATS below).
 *
 * Browser-clean: items come in as parsed JSON; reading files is steer/files-node.ts's job.
 */
import { ConfigError, UsageError } from "../errors.js";
import type { Tokenizer } from "../io/tokenizer/types.js";

export interface ABItem {
  question: string;
  answer_matching_behavior: string;
  answer_not_matching_behavior: string;
}

export interface OpenEndedItem {
  question: string;
}

/** Validate a parsed CAA A/B file; errors name the file and the item's field. */
export function parseABItems(json: unknown, file: string): ABItem[] {
  if (!Array.isArray(json)) throw new ConfigError("CAA_FORMAT", "a CAA A/B file must hold a JSON array of items", { file, fix: "give generate_dataset.json or test_dataset_ab.json of a CAA behaviour folder" });
  return json.map((raw, i) => {
    const it = raw as Record<string, unknown>;
    for (const key of ["question", "answer_matching_behavior", "answer_not_matching_behavior"] as const) {
      if (typeof it?.[key] !== "string" || (it[key] as string).length === 0) {
        throw new ConfigError("CAA_FORMAT", `item ${i} has no string "${key}"`, { file, field: `[${i}].${key}`, fix: "each item needs question, answer_matching_behavior and answer_not_matching_behavior" });
      }
    }
    for (const key of ["answer_matching_behavior", "answer_not_matching_behavior"] as const) {
      if (answerLetter(it[key] as string) === undefined) {
        throw new ConfigError("CAA_FORMAT", `item ${i}: ${key} is ${JSON.stringify(it[key])}, which names no choice letter`, { file, field: `[${i}].${key}`, fix: 'answers look like "(A)" or "(B)"' });
      }
    }
    return { question: it.question as string, answer_matching_behavior: it.answer_matching_behavior as string, answer_not_matching_behavior: it.answer_not_matching_behavior as string };
  });
}

/** Validate a parsed CAA open-ended file ([{question}]). */
export function parseOpenEnded(json: unknown, file: string): OpenEndedItem[] {
  if (!Array.isArray(json)) throw new ConfigError("CAA_FORMAT", "an open-ended CAA file must hold a JSON array of {question}", { file });
  return json.map((raw, i) => {
    const q = (raw as Record<string, unknown>)?.question;
    if (typeof q !== "string" || q.length === 0) throw new ConfigError("CAA_FORMAT", `item ${i} has no string "question"`, { file, field: `[${i}].question` });
    return { question: q };
  });
}

/** The choice letter of an answer such as "(A)", " ( B )", "A": its first capital letter A–Z, with its index. */
export function answerLetter(answer: string): { letter: string; index: number } | undefined {
  const m = /[A-Z]/.exec(answer);
  return m ? { letter: m[0], index: m.index } : undefined;
}

/**
 * The prompt formats of A/B items (how question and answer become model text):
 *
 * - "plain": question + separator (default " ") + answer, untouched — the shape the built-in
 *   fact-world model was trained on.
 * - "caa-base": CAA's base-model format, `Input: {question.strip()}\nResponse: {answer.strip()}`
 *   (nrimsky/CAA utils/tokenize.py tokenize_llama_base, BASE_INPUT = "Input:",
 *   BASE_RESPONSE = "\nResponse:": f"{BASE_INPUT} {user_input.strip()}" then
 *   f"{BASE_RESPONSE} {model_output.strip()}").
 * - "caa-chat": CAA's chat format, `[INST] {question.strip()} [/INST] {answer.strip()}`, with an
 *   optional system prompt placed before it as `<<SYS>>\n{system}\n<</SYS>>\n\n` (nrimsky/CAA
 *   utils/tokenize.py tokenize_llama_chat: B_INST, E_INST = "[INST]", "[/INST]"; B_SYS, E_SYS =
 *   "<<SYS>>\n", "\n<</SYS>>\n\n"; input_content = B_SYS + system_prompt + E_SYS, then
 *   f"{B_INST} {user_input.strip()} {E_INST}", then f" {model_output.strip()}"). This is CAA's
 *   literal Llama-2 text, on purpose: a tokenizer's own chat template (tokenizer_config.json
 *   `chat_template`, which scalpel's tokenizers do not expose) would differ from what CAA used —
 *   e.g. Llama-2's template puts <<SYS>> inside [INST]; CAA's code puts it before.
 *
 * Python's str.strip() is rendered by String.prototype.trim() (both strip whitespace; they differ
 * only on exotic Unicode spaces). In every format the answer letter is located by character
 * offsets into the final text, and the prompt (questionLength) ends where CAA starts adding the
 * vector: after "[/INST]" (ADD_FROM_POS_CHAT = E_INST) or "\nResponse:" (ADD_FROM_POS_BASE).
 */
export const AB_PROMPT_FORMATS = ["plain", "caa-base", "caa-chat"] as const;
export type ABPromptFormat = (typeof AB_PROMPT_FORMATS)[number];

/**
 * The default prompt format: "plain" for the built-in fact-world model (its training data joined
 * question and answer with a space), CAA's base-model format for every other model.
 */
export function defaultABPromptFormat(builtinModel: boolean): ABPromptFormat {
  return builtinModel ? "plain" : "caa-base";
}

/** How an item becomes model text. */
export interface ABFormat {
  /** The prompt format (default "plain"). */
  format?: ABPromptFormat;
  /** plain: between question and answer (default " "). The CAA formats fix their own text. */
  separator?: string;
  /** caa-chat: CAA's optional system prompt (none by default, as CAA's A/B runs). */
  systemPrompt?: string;
  /** Add the tokenizer's special tokens (BOS) (default true, as CAA's tokenizer calls do). */
  addSpecialTokens?: boolean;
}

/** What tokenisation `format` means, for activation-cache keys and provenance: every setting, with defaults filled in. */
export function abTokenization(format: ABFormat = {}): Record<string, unknown> {
  const f = format.format ?? "plain";
  return {
    format: f,
    ...(f === "plain" ? { separator: format.separator ?? " " } : {}),
    ...(f === "caa-chat" && format.systemPrompt !== undefined ? { systemPrompt: format.systemPrompt } : {}),
    addSpecialTokens: format.addSpecialTokens ?? true,
  };
}

export interface ABText {
  /** The whole model text: prompt, then the answer. */
  text: string;
  /** The prompt part (everything before the answer's separating space; for plain, the question). */
  prompt: string;
  /** The answer as it appears in `text` (stripped in the CAA formats). */
  answer: string;
  /** Character offset of `answer` in `text`. */
  answerStart: number;
}

/** The model text of question + answer in `format` (see AB_PROMPT_FORMATS). */
export function abText(question: string, answer: string, format: ABFormat = {}): ABText {
  const f = format.format ?? "plain";
  if (f === "plain") {
    const sep = format.separator ?? " ";
    return { text: question + sep + answer, prompt: question, answer, answerStart: question.length + sep.length };
  }
  let prompt: string;
  if (f === "caa-base") prompt = `Input: ${question.trim()}\nResponse:`;
  else if (f === "caa-chat") prompt = `${format.systemPrompt !== undefined ? `<<SYS>>\n${format.systemPrompt}\n<</SYS>>\n\n` : ""}[INST] ${question.trim()} [/INST]`;
  else throw new UsageError("CAA_FORMAT", `unknown A/B prompt format ${JSON.stringify(f)}`, { fix: `one of ${AB_PROMPT_FORMATS.join(", ")}` });
  const a = answer.trim();
  return { text: `${prompt} ${a}`, prompt, answer: a, answerStart: prompt.length + 1 };
}

export interface TokenizedAnswer {
  /** Tokens of the formatted question + answer. */
  tokens: number[];
  /** Index in `tokens` of the answer letter's token (where CAA reads the activation). */
  letterPos: number;
  /** Number of tokens of the prompt alone (the prompt/answer boundary, for "after-prompt" steering). */
  questionLength: number;
}

/** Tokenize question + answer in `format` and locate the answer letter's token through character offsets. */
export function tokenizeAnswer(tok: Tokenizer, question: string, answer: string, format: ABFormat = {}): TokenizedAnswer {
  const add = format.addSpecialTokens ?? true;
  const t = abText(question, answer, format);
  const enc = tok.encode(t.text, { addSpecialTokens: add });
  const letter = answerLetter(t.answer);
  if (!letter) throw new UsageError("CAA_FORMAT", `answer ${JSON.stringify(answer)} names no choice letter`, { fix: 'answers look like "(A)"' });
  const at = t.answerStart + letter.index;
  const letterPos = enc.offsets.findIndex(([s, e]) => s <= at && at < e);
  if (letterPos < 0) throw new UsageError("CAA_TOKENIZE", `no token covers the answer letter of ${JSON.stringify(answer)} (the tokenizer dropped it)`, { fix: "check that the tokenizer knows the answer's characters" });
  const qEnc = tok.encode(t.prompt, { addSpecialTokens: add });
  // The prompt's own tokens end where the first token overlapping the separator/answer starts.
  const questionLength = Math.min(qEnc.ids.length, letterPos);
  return { tokens: enc.ids, letterPos, questionLength };
}

export interface ABScoringRow {
  /** Tokens before the answer letter (question, separator, e.g. "("). */
  context: number[];
  /** Letter token of the behaviour-matching answer, and of the other one. */
  matching: number;
  notMatching: number;
  questionLength: number;
}

/** The A/B score's input for one item: context up to the letter, and the two letter tokens. */
export function abScoringRow(tok: Tokenizer, item: ABItem, format: ABFormat = {}): ABScoringRow {
  const m = tokenizeAnswer(tok, item.question, item.answer_matching_behavior, format);
  const n = tokenizeAnswer(tok, item.question, item.answer_not_matching_behavior, format);
  const context = m.tokens.slice(0, m.letterPos);
  const same = m.letterPos === n.letterPos && context.every((t, i) => n.tokens[i] === t);
  if (!same || m.tokens[m.letterPos] === n.tokens[n.letterPos]) {
    throw new UsageError("CAA_TOKENIZE", `the two answers of "${item.question.slice(0, 60)}…" do not differ only in their letter token`, {
      fix: "answers must be like \"(A)\" and \"(B)\" so that only the letter differs",
    });
  }
  return { context, matching: m.tokens[m.letterPos]!, notMatching: n.tokens[n.letterPos]!, questionLength: m.questionLength };
}
