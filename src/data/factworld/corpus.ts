/**
 * The training corpus: every fact stated with every train template (some behind a sentence
 * opener), arithmetic word problems, the behaviour dialogues and the tool-call prompts, as
 * documents (the tokenizer adds BOS/EOS around each). Fact sentences are grouped a few per
 * document in a seeded order, so the model meets facts at the start and in the middle of text.
 */
import { arithmeticDocuments } from "./arithmetic.js";
import { behaviourDocuments } from "./behaviour.js";
import { rngFor, shuffled, STREAM } from "./random.js";
import { OPENERS, fill, relation } from "./relations.js";
import { toolDocuments } from "./tools.js";
import type { FactQuery, FactWorld } from "./types.js";

/** How much of each kind of text one pass over the corpus holds. */
export interface CorpusMix {
  /** Fraction of fact sentences preceded by a sentence opener. */
  openerRate: number;
  arithmetic: number;
  behaviour: number;
  tools: number;
}

export const DEFAULT_MIX: CorpusMix = { openerRate: 0.25, arithmetic: 2000, behaviour: 800, tools: 300 };

function lowerFirst(s: string): string {
  return s.startsWith("The ") ? "the" + s.slice(3) : s;
}

/** All fact sentences: each fact × each train template, some with an opener (never forming a held-out template). */
export function factSentences(world: FactWorld, seed: number, openerRate = DEFAULT_MIX.openerRate): string[] {
  const rng = rngFor(seed, STREAM.corpus);
  const out: string[] = [];
  for (const fact of world.facts) {
    const rel = relation(fact.relation);
    const heldOut = new Set(rel.heldOutTemplates);
    for (const t of rel.trainTemplates) {
      let template = t;
      if (!t.startsWith("Question") && rng.random() < openerRate) {
        const opener = OPENERS[rng.int(OPENERS.length)]!;
        const withOpener = `${opener} ${lowerFirst(t)}`;
        if (!heldOut.has(withOpener)) template = withOpener;
      }
      out.push(`${fill(template, fact.subject)} ${fact.object} .`);
    }
  }
  return out;
}

export function trainingDocuments(world: FactWorld, seed = world.seed, mix: CorpusMix = DEFAULT_MIX): string[] {
  const rng = rngFor(seed, STREAM.corpus + 100);
  const sentences = shuffled(rng, factSentences(world, seed, mix.openerRate));
  const docs: string[] = [];
  for (let i = 0; i < sentences.length; ) {
    const n = 1 + rng.int(3);
    docs.push(sentences.slice(i, i + n).join(" "));
    i += n;
  }
  docs.push(...arithmeticDocuments(world, "train", mix.arithmetic));
  docs.push(...behaviourDocuments(world, mix.behaviour));
  docs.push(...toolDocuments(world, "train", mix.tools));
  return shuffled(rng, docs);
}

/** Every fact asked with every train template and every held-out template. */
export function factQueries(world: FactWorld): FactQuery[] {
  const out: FactQuery[] = [];
  for (const fact of world.facts) {
    const rel = relation(fact.relation);
    for (const t of rel.trainTemplates) out.push({ prompt: fill(t, fact.subject), answer: fact.object, relation: fact.relation, subject: fact.subject, templates: "train" });
    for (const t of rel.heldOutTemplates) out.push({ prompt: fill(t, fact.subject), answer: fact.object, relation: fact.relation, subject: fact.subject, templates: "paraphrase" });
  }
  return out;
}
