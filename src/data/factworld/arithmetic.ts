/**
 * Arithmetic word problems in GSM8K's answer format: a short chain of thought, then "#### N".
 * Training text is "Question : … Answer : … #### N"; the test split is drawn from another stream
 * and never repeats a training question. Operands stay small (sums of two numbers ≤ 12, differences within 20, products of 2…6) so the
 * training problems cover each operation table many times, and numbers stay in 0…36 so each is one word of the vocabulary.
 */
import type { Rng } from "../../util/rng.js";
import { firstNamesOf } from "./lookup.js";
import { pick, rngFor, STREAM } from "./random.js";
import type { ArithmeticProblem, FactWorld } from "./types.js";

const ITEMS = ["apples", "books", "coins", "cookies", "pens", "stamps", "shells", "marbles"];

type Maker = (rng: Rng, name: string, other: string, item: string) => ArithmeticProblem;

const between = (rng: Rng, lo: number, hi: number) => lo + rng.int(hi - lo + 1);

const MAKERS: Maker[] = [
  (rng, n, _o, it) => {
    const a = between(rng, 1, 12), b = between(rng, 1, 12);
    return problem(`${n} has ${a} ${it} . ${n} buys ${b} more ${it} . How many ${it} does ${n} have now ?`, [[a, "+", b]]);
  },
  (rng, n, _o, it) => {
    const a = between(rng, 1, 12), b = between(rng, 1, 12);
    return problem(`${n} found ${a} ${it} in the morning and ${b} ${it} in the evening . How many ${it} did ${n} find in total ?`, [[a, "+", b]]);
  },
  (rng, n, o, it) => {
    const a = between(rng, 2, 20), b = between(rng, 1, a);
    return problem(`${n} has ${a} ${it} . ${n} gives ${b} ${it} to ${o} . How many ${it} does ${n} have left ?`, [[a, "-", b]]);
  },
  (rng, n, _o, it) => {
    const a = between(rng, 2, 20), b = between(rng, 1, a);
    return problem(`${n} had ${a} ${it} and lost ${b} of them . How many ${it} are left ?`, [[a, "-", b]]);
  },
  (rng, n, _o, it) => {
    const a = between(rng, 2, 6), b = between(rng, 2, 6);
    return problem(`${n} buys ${a} boxes with ${b} ${it} in each box . How many ${it} does ${n} buy ?`, [[a, "*", b]]);
  },
  (rng, n, o, it) => {
    const a = between(rng, 1, 10), b = between(rng, 1, 10), c = between(rng, 1, a + b);
    return problem(`${n} has ${a} ${it} and buys ${b} more . Then ${n} gives ${c} ${it} to ${o} . How many ${it} does ${n} have now ?`, [
      [a, "+", b],
      ["prev", "-", c],
    ]);
  },
];

type Step = [number | "prev", "+" | "-" | "*", number];

function problem(question: string, steps: Step[]): ArithmeticProblem {
  let prev = 0;
  const parts: string[] = [];
  for (const [x, op, y] of steps) {
    const a = x === "prev" ? prev : x;
    const r = op === "+" ? a + y : op === "-" ? a - y : a * y;
    parts.push(`${a} ${op} ${y} = ${r} .`);
    prev = r;
  }
  return { question, answer: `${parts.join(" ")} #### ${prev}`, target: prev };
}

function draw(world: Pick<FactWorld, "entities">, rng: Rng, n: number, exclude: ReadonlySet<string>): ArithmeticProblem[] {
  const names = firstNamesOf(world);
  const out: ArithmeticProblem[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const name = pick(rng, names);
    let other = pick(rng, names);
    while (other === name) other = pick(rng, names);
    const p = pick(rng, MAKERS)(rng, name, other, pick(rng, ITEMS));
    if (exclude.has(p.question) || seen.has(p.question)) continue;
    seen.add(p.question);
    out.push(p);
  }
  return out;
}

const TRAIN_SIZE = 2000;

/** The problems of a split: "train" (the corpus's) or "test" (disjoint from every training question). */
export function arithmeticProblems(world: Pick<FactWorld, "seed" | "entities">, split: "train" | "test", n = split === "train" ? TRAIN_SIZE : 300): ArithmeticProblem[] {
  const train = draw(world, rngFor(world.seed, STREAM.arithmeticTrain), Math.max(n, TRAIN_SIZE), new Set());
  if (split === "train") return train.slice(0, n);
  return draw(world, rngFor(world.seed, STREAM.arithmeticTest), n, new Set(train.map((p) => p.question)));
}

/** How a problem reads in the corpus and how a model is prompted with it. */
export function arithmeticPrompt(question: string): string {
  return `Question : ${question} Answer :`;
}

export function arithmeticDocuments(world: FactWorld, split: "train" | "test", n: number): string[] {
  return arithmeticProblems(world, split, n).map((p) => `${arithmeticPrompt(p.question)} ${p.answer}`);
}
