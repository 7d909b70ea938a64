/**
 * The texts of the monotone-robustness pipeline: documents to (re)train on, held-out documents
 * for perplexity, and attack examples (a prompt and the continuation the attacks try to make
 * unlikely). The seed studies use the Pile; here the built-in model's own world stands in:
 *
 * - train: the fact world's stage-2 training documents (what the built-in model was trained on);
 * - held-out: statements of its facts through *held-out* templates (paraphrases it never read),
 *   plus held-out arithmetic documents;
 * - attack: held-out fact statements split into the statement and its object ("… was born in" →
 *   "Kelmar"): the attacks raise the perplexity of the correct object.
 *
 * For other models the caller passes documents (text files through eval/tasks/text-perplexity.ts
 * textDocuments); attack examples are then each held-out document's first tokens and the next ones.
 */
import { arithmeticDocuments, buildFactWorld, factQueries, STAGE2_MIX, trainingDocuments } from "../data/factworld/index.js";
import type { AttackExample } from "../attack/experiment.js";
import { Rng } from "../util/rng.js";

export interface RobustnessData {
  train: string[];
  heldout: string[];
  attack: AttackExample[];
  source: string;
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const rng = new Rng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function factWorldRobustnessData(nHeldout: number, nAttack: number, seed = 1): RobustnessData {
  const world = buildFactWorld();
  const queries = shuffled(factQueries(world).filter((q) => q.templates === "paraphrase"), seed);
  const attack = queries.slice(0, nAttack).map((q) => ({ prompt: q.prompt, target: q.answer }));
  const statements = queries.slice(nAttack).map((q) => `${q.prompt} ${q.answer} .`);
  const nArith = Math.floor(nHeldout / 4);
  const heldout = [...statements.slice(0, nHeldout - nArith), ...arithmeticDocuments(world, "test", nArith)];
  return { train: trainingDocuments(world, world.seed, STAGE2_MIX), heldout, attack, source: `fact world ${world.seed}: stage-2 training documents; held-out-template statements and test arithmetic` };
}

/** Attack examples from documents: the first `promptWords` words, then the next `targetWords`. */
export function documentAttackExamples(docs: readonly string[], n: number, promptWords = 24, targetWords = 8): AttackExample[] {
  const out: AttackExample[] = [];
  for (const d of docs) {
    const w = d.split(/\s+/).filter(Boolean);
    if (w.length < 4) continue;
    const p = Math.min(promptWords, Math.floor(w.length / 2));
    out.push({ prompt: w.slice(0, p).join(" "), target: w.slice(p, p + targetWords).join(" ") });
    if (out.length >= n) break;
  }
  return out;
}
