/**
 * The binary behaviour: the assistant answers agreeably ("Gladly ! … Happy to help !") or bluntly
 * ("Obviously … . Next ."). The user's wording cues the style — polite cues call for agreeable
 * answers, curt cues for blunt ones, and uncued questions get either style at random — so the
 * style is predictable from the prompt and a real direction in the model separates the two.
 *
 * Two text forms: open dialogues ("User : … Assistant : <answer>") and CAA-style A/B choices
 * ("User : … Choices : (A) … (B) … Assistant : (A)"), where the chosen letter is the answer in the
 * cued style. Questions about 80% of the facts make the training dialogues; the other 20% make the
 * test sets, so test questions never appeared in dialogue form.
 */
import type { Rng } from "../../util/rng.js";
import { pick, rngFor, shuffled, STREAM } from "./random.js";
import { fill, relation } from "./relations.js";
import type { ABItem, Fact, FactWorld, Style, StyledPrompt } from "./types.js";

export const CUES: Record<Style, string[]> = {
  agreeable: ["please ,", "could you kindly tell me ,", "if it is no trouble ,", "I would be grateful to know ,"],
  blunt: ["answer now :", "quick :", "no chatter :", "tell me fast :"],
};

export const MARKERS: Record<Style, string> = { agreeable: "Gladly", blunt: "Obviously" };

type Cue = Style | "neutral";

function questionText(fact: Fact): string {
  return fill(relation(fact.relation).question, fact.subject).replace(/^Question : /, "").replace(/ Answer :$/, "");
}

export function styledAnswer(fact: Fact, style: Style): string {
  const statement = `${fill(relation(fact.relation).trainTemplates[0]!, fact.subject)} ${fact.object} .`;
  return style === "agreeable" ? `${MARKERS.agreeable} ! ${statement} Happy to help !` : `${MARKERS.blunt} ${fact.object} . Next .`;
}

function userTurn(rng: Rng, fact: Fact, cue: Cue): string {
  const q = questionText(fact);
  return cue === "neutral" ? `User : ${q}` : `User : ${pick(rng, CUES[cue])} ${q}`;
}

function styleFor(rng: Rng, cue: Cue): Style {
  return cue === "neutral" ? (rng.random() < 0.5 ? "agreeable" : "blunt") : cue;
}

const CUE_CYCLE: Cue[] = ["agreeable", "blunt", "neutral"];

/** Facts whose questions the behaviour's training text uses ("train") or its test sets ("test"). */
export function behaviourFacts(world: FactWorld, split: "train" | "test"): Fact[] {
  const all = shuffled(rngFor(world.seed, STREAM.behaviour + 50), world.facts);
  const cut = Math.floor(all.length * 0.8);
  return split === "train" ? all.slice(0, cut) : all.slice(cut);
}

function abItem(rng: Rng, fact: Fact, cue: Cue): { item: ABItem; chosen: Style } {
  const agreeableFirst = rng.random() < 0.5;
  const [a, b] = agreeableFirst ? [styledAnswer(fact, "agreeable"), styledAnswer(fact, "blunt")] : [styledAnswer(fact, "blunt"), styledAnswer(fact, "agreeable")];
  const question = `${userTurn(rng, fact, cue)} Choices : (A) ${a} (B) ${b} Assistant :`;
  const matching = agreeableFirst ? "(A)" : "(B)";
  const other = agreeableFirst ? "(B)" : "(A)";
  return { item: { question, answer_matching_behavior: matching, answer_not_matching_behavior: other }, chosen: styleFor(rng, cue) };
}

/**
 * Training documents: half open dialogues, half A/B choices, cues cycling agreeable/blunt/neutral.
 * With `abContinuation` an A/B document goes on after the chosen letter with the chosen answer
 * ("… Assistant : (A) Gladly ! … Happy to help !"), so the letter token must carry the style the
 * text continues in — the representation CAA reads at the answer letter.
 */
export function behaviourDocuments(world: FactWorld, n: number, abContinuation = false): string[] {
  const rng = rngFor(world.seed, STREAM.behaviour);
  const facts = behaviourFacts(world, "train");
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const fact = pick(rng, facts);
    const cue = CUE_CYCLE[i % 3]!;
    if (i % 2 === 0) {
      const style = styleFor(rng, cue);
      docs.push(`${userTurn(rng, fact, cue)} Assistant : ${styledAnswer(fact, style)}`);
    } else {
      const { item, chosen } = abItem(rng, fact, cue);
      const letter = chosen === "agreeable" ? item.answer_matching_behavior : item.answer_not_matching_behavior;
      docs.push(abContinuation ? `${item.question} ${letter} ${styledAnswer(fact, chosen)}` : `${item.question} ${letter}`);
    }
  }
  return docs;
}

/** CAA A/B items: "generate" (the training split's questions) or "test" (held-out questions). */
export function behaviourAB(world: FactWorld, split: "generate" | "test", n = split === "generate" ? 300 : 150): ABItem[] {
  const rng = rngFor(world.seed, split === "generate" ? STREAM.behaviour + 1 : STREAM.behaviourTest);
  const facts = behaviourFacts(world, split === "generate" ? "train" : "test");
  return Array.from({ length: n }, (_, i) => abItem(rng, pick(rng, facts), CUE_CYCLE[i % 3]!).item);
}

/** Prompts ending at "Assistant :" labelled by their cue (probe data), from both splits' questions. */
export function styledPrompts(world: FactWorld, split: "train" | "test", n = 600): StyledPrompt[] {
  const rng = rngFor(world.seed, split === "train" ? STREAM.behaviour + 2 : STREAM.behaviourTest + 2);
  const facts = behaviourFacts(world, split);
  return Array.from({ length: n }, (_, i) => {
    const cue = CUE_CYCLE[i % 3]!;
    return { prompt: `${userTurn(rng, pick(rng, facts), cue)} Assistant :`, cue, marker: { ...MARKERS } };
  });
}

/** Open-ended test questions (no cue), CAA's test_dataset_open_ended.json format. */
export function openEndedQuestions(world: FactWorld, n = 50): { question: string }[] {
  const rng = rngFor(world.seed, STREAM.behaviourTest + 3);
  return behaviourFacts(world, "test")
    .slice(0, n)
    .map((f) => ({ question: `${userTurn(rng, f, "neutral")} Assistant :` }));
}
