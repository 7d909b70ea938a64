/** " (did you mean 'x'?)" or "" — for messages that go on with ScalpelError's ". Fix: …" suffix. */
import { closest } from "../util/closest.js";

export function suggest(input: string, choices: readonly string[]): string {
  const c = closest(input, choices);
  return c === undefined ? "" : ` (did you mean '${c}'?)`;
}
