/**
 * The vocabulary: every word of every text the fact world produces (corpus, evaluation sets,
 * editing exports), sorted, plus the numbers 0…99 so arithmetic outside the corpus still tokenizes.
 */
import { arithmeticDocuments } from "./arithmetic.js";
import { behaviourAB, openEndedQuestions, styledPrompts } from "./behaviour.js";
import { factQueries, STAGE2_MIX, trainingDocuments } from "./corpus.js";
import { counterfactRecords, zsreRecords } from "./exports.js";
import { toolDocuments } from "./tools.js";
import type { FactWorld } from "./types.js";

export function worldVocabulary(world: FactWorld): string[] {
  const words = new Set<string>();
  const add = (text: string) => {
    for (const w of text.split(" ")) if (w) words.add(w);
  };
  for (let i = 0; i < 100; i++) words.add(String(i));
  for (const d of trainingDocuments(world)) add(d);
  for (const d of trainingDocuments(world, world.seed, STAGE2_MIX)) add(d);
  for (const q of factQueries(world)) add(`${q.prompt} ${q.answer}`);
  for (const d of arithmeticDocuments(world, "test", 300)) add(d);
  for (const split of ["generate", "test"] as const) for (const it of behaviourAB(world, split)) add(`${it.question} ${it.answer_matching_behavior} ${it.answer_not_matching_behavior}`);
  for (const split of ["train", "test"] as const) for (const p of styledPrompts(world, split)) add(`${p.prompt} ${p.marker.agreeable} ${p.marker.blunt}`);
  for (const q of openEndedQuestions(world)) add(q.question);
  for (const d of toolDocuments(world, "test", 200)) add(d);
  for (const r of counterfactRecords(world)) {
    add(`${r.requested_rewrite.prompt} ${r.requested_rewrite.subject} ${r.requested_rewrite.target_new.str}`);
    for (const p of [...r.paraphrase_prompts, ...r.neighborhood_prompts, ...r.attribute_prompts, ...r.generation_prompts]) add(p);
  }
  for (const r of zsreRecords(world)) add(`${r.src} ${r.rephrase} ${r.alt} ${r.loc} ${r.loc_ans}`);
  words.delete("{}");
  return [...words].sort();
}
