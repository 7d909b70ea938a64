/**
 * Reading a model's answer to a tool-call request (data/factworld/tools.ts): did it call the
 * calculator, in the exact format, with an expression worth the right value — or, asked to copy,
 * did it copy? Expressions are read by a small recursive-descent parser (integers, + - *, unary
 * minus, brackets; * binds tighter than + and -, left-associative) — never by eval.
 *
 * Text is compared after collapsing whitespace runs to one space and trimming (word-level
 * tokenizers decode with spaces between tokens). A generation is read up to and including its first
 * `</tool_call>`: what the model writes after a finished call is not part of the call (the stop a
 * `generate_until` stop string would give, except that the closing tag is kept so the format can
 * be checked).
 */

/** Longest expression text the parser reads (characters), and deepest bracket nesting. */
const MAX_EXPR_CHARS = 1000;
const MAX_DEPTH = 64;

type Tok = { kind: "int"; value: number } | { kind: "op"; op: "+" | "-" | "*" | "(" | ")" };

function lex(s: string): Tok[] | null {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c >= "0" && c <= "9") {
      let j = i;
      while (j < s.length && s[j]! >= "0" && s[j]! <= "9") j++;
      const value = Number(s.slice(i, j));
      if (!Number.isSafeInteger(value)) return null;
      out.push({ kind: "int", value });
      i = j;
    } else if (c === "+" || c === "-" || c === "*" || c === "(" || c === ")") {
      out.push({ kind: "op", op: c });
      i++;
    } else {
      return null;
    }
  }
  return out;
}

/**
 * The value of an arithmetic expression of non-negative integer literals, + - *, unary minus and
 * brackets; null when it is not one (other characters, unbalanced brackets, a dangling operator,
 * empty), nests deeper than 64 brackets, or leaves the safe-integer range.
 */
export function evaluateArithmetic(expr: string): number | null {
  if (expr.length > MAX_EXPR_CHARS) return null;
  const toks = lex(expr);
  if (!toks || toks.length === 0) return null;
  let pos = 0;
  const isOp = (op: string) => toks[pos]?.kind === "op" && (toks[pos] as { op: string }).op === op;
  const safe = (v: number | null) => (v !== null && Number.isSafeInteger(v) ? v : null);
  const parseExpr = (depth: number): number | null => {
    let acc = parseTerm(depth);
    while (acc !== null && (isOp("+") || isOp("-"))) {
      const op = (toks[pos++] as { op: string }).op;
      const rhs = parseTerm(depth);
      acc = rhs === null ? null : safe(op === "+" ? acc + rhs : acc - rhs);
    }
    return acc;
  };
  const parseTerm = (depth: number): number | null => {
    let acc = parseFactor(depth);
    while (acc !== null && isOp("*")) {
      pos++;
      const rhs = parseFactor(depth);
      acc = rhs === null ? null : safe(acc * rhs);
    }
    return acc;
  };
  const parseFactor = (depth: number): number | null => {
    if (depth > MAX_DEPTH) return null;
    const t = toks[pos];
    if (!t) return null;
    if (t.kind === "int") {
      pos++;
      return t.value;
    }
    if (t.op === "-") {
      pos++;
      const v = parseFactor(depth + 1);
      return v === null ? null : v === 0 ? 0 : -v;
    }
    if (t.op === "(") {
      pos++;
      const v = parseExpr(depth + 1);
      if (v === null || !isOp(")")) return null;
      pos++;
      return v;
    }
    return null;
  };
  const value = parseExpr(0);
  return value !== null && pos === toks.length ? value : null;
}

/** Collapse whitespace runs to one space and trim. */
export function normalizeSpaces(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export const TOOL_CALL_OPEN = "<tool_call>";
export const TOOL_CALL_CLOSE = "</tool_call>";

/** The generation read up to and including its first `</tool_call>`, whitespace normalised. */
export function cutAfterToolCall(text: string): string {
  const k = text.indexOf(TOOL_CALL_CLOSE);
  return normalizeSpaces(k < 0 ? text : text.slice(0, k + TOOL_CALL_CLOSE.length));
}

const CALL_FORMAT = /^<tool_call> calculator \( (.+) \) <\/tool_call>$/;

export interface ParsedToolCall {
  /** The text read (cutAfterToolCall). */
  text: string;
  /** It contains `<tool_call>` anywhere. */
  toolCall: boolean;
  /** It starts with `<tool_call>`. */
  startsWithToolCall: boolean;
  /** It is exactly `<tool_call> calculator ( EXPR ) </tool_call>` with EXPR a well-formed expression. */
  validFormat: boolean;
  /** EXPR when the call has that shape (even if EXPR does not parse); null otherwise. */
  expression: string | null;
  /** EXPR's value when validFormat; null otherwise. */
  value: number | null;
}

/** Read a completion as a calculator call. */
export function parseToolCall(completion: string): ParsedToolCall {
  const text = cutAfterToolCall(completion);
  const m = CALL_FORMAT.exec(text);
  const expression = m ? m[1]! : null;
  const value = expression === null ? null : evaluateArithmetic(expression);
  return {
    text,
    toolCall: text.includes(TOOL_CALL_OPEN),
    startsWithToolCall: text.startsWith(TOOL_CALL_OPEN),
    validFormat: value !== null,
    expression,
    value,
  };
}

export interface ToolCallScores {
  /** The completion contains `<tool_call>`. */
  tool_call: 0 | 1;
  /** It is a well-formed calculator call. */
  valid_tool_format: 0 | 1;
  /** It is a well-formed call whose expression has the prompt expression's value. */
  math_correct: 0 | 1;
  /** It is the prompt expression itself (whitespace normalised). */
  copied: 0 | 1;
}

/** Score one completion against the expression its prompt asked about. */
export function scoreToolCompletion(completion: string, expression: string): ToolCallScores {
  const p = parseToolCall(completion);
  const want = evaluateArithmetic(expression);
  if (want === null) throw new RangeError(`scoreToolCompletion: the prompt's expression ${JSON.stringify(expression)} is not well formed`);
  return {
    tool_call: p.toolCall ? 1 : 0,
    valid_tool_format: p.validFormat ? 1 : 0,
    math_correct: p.validFormat && p.value === want ? 1 : 0,
    copied: p.text === normalizeSpaces(expression) ? 1 : 0,
  };
}
