/**
 * The training corpus: every fact stated with every train template (some behind a sentence
 * opener), arithmetic word problems, the behaviour dialogues and the tool-call prompts, as
 * documents (the tokenizer adds BOS/EOS around each). Fact sentences are grouped a few per
 * document in a seeded order, so the model meets facts at the start and in the middle of text.
 */
import { arithmeticDocuments } from "./arithmetic.js";
import { behaviourDocuments } from "./behaviour.js";
import { rngFor, shuffled, STREAM } from "./random.js";
import { profileTexts } from "./profiles.js";
import { OPENERS, fill, relation } from "./relations.js";
import { toolDocuments } from "./tools.js";
import type { FactQuery, FactWorld, RelationSpec } from "./types.js";

/** How much of each kind of text one pass over the corpus holds. */
export interface CorpusMix {
  /** Fraction of fact sentences preceded by a sentence opener. */
  openerRate: number;
  arithmetic: number;
  behaviour: number;
  tools: number;
  /** State facts with the relations' clause templates too (the recipe's second stage). */
  clauses: boolean;
  /** A/B behaviour documents go on after the chosen letter with that answer's text (second stage). */
  abContinuation: boolean;
}

/** The recipe's first stage: plain statements, questions, and A/B choices that end at the letter. */
export const DEFAULT_MIX: CorpusMix = { openerRate: 0.25, arithmetic: 2000, behaviour: 800, tools: 300, clauses: false, abContinuation: false };

/**
 * The second stage adds relative-clause statements (so the relation may be named after the
 * subject) and A/B choices followed by the chosen answer (so the chosen letter carries the style
 * the answer goes on in), with twice the behaviour text.
 */
export const STAGE2_MIX: CorpusMix = { ...DEFAULT_MIX, behaviour: 1600, clauses: true, abContinuation: true };

/** The templates a mix states facts with. */
export function statementTemplates(rel: RelationSpec, mix: Pick<CorpusMix, "clauses">): string[] {
  return mix.clauses ? [...rel.trainTemplates, ...rel.clauseTemplates] : rel.trainTemplates;
}

function lowerFirst(s: string): string {
  return s.startsWith("The ") ? "the" + s.slice(3) : s;
}

/** All fact sentences: each fact × each of the mix's statement templates, some with an opener (never forming a held-out template). */
export function factSentences(world: FactWorld, seed: number, mix: CorpusMix = DEFAULT_MIX): string[] {
  const rng = rngFor(seed, STREAM.corpus);
  const out: string[] = [];
  for (const fact of world.facts) {
    const rel = relation(fact.relation);
    const heldOut = new Set(rel.heldOutTemplates);
    for (const t of statementTemplates(rel, mix)) {
      let template = t;
      if (!t.startsWith("Question") && rng.random() < mix.openerRate) {
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
  // Attribute worlds add person profiles (pronouns, demonyms) as units of their own; the small world has none.
  const units = world.people ? [...factSentences(world, seed, mix), ...profileTexts(world, seed, mix.clauses ? 2 : 1)] : factSentences(world, seed, mix);
  const sentences = shuffled(rng, units);
  const docs: string[] = [];
  for (let i = 0; i < sentences.length; ) {
    const n = 1 + rng.int(3);
    docs.push(sentences.slice(i, i + n).join(" "));
    i += n;
  }
  docs.push(...arithmeticDocuments(world, "train", mix.arithmetic));
  docs.push(...behaviourDocuments(world, mix.behaviour, mix.abContinuation));
  docs.push(...toolDocuments(world, "train", mix.tools));
  return shuffled(rng, docs);
}

/** Every fact asked with every template the corpus states it with (both stages) and every held-out template. */
export function factQueries(world: FactWorld): FactQuery[] {
  const out: FactQuery[] = [];
  for (const fact of world.facts) {
    const rel = relation(fact.relation);
    for (const t of statementTemplates(rel, STAGE2_MIX)) out.push({ prompt: fill(t, fact.subject), answer: fact.object, relation: fact.relation, subject: fact.subject, templates: "train" });
    for (const t of rel.heldOutTemplates) out.push({ prompt: fill(t, fact.subject), answer: fact.object, relation: fact.relation, subject: fact.subject, templates: "paraphrase" });
  }
  return out;
}
