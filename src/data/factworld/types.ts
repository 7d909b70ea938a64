/**
 * The fact world: a synthetic, fully known world of entities and facts, with the text a small
 * language model is trained on and the evaluation/editing datasets built from the same facts.
 * Deterministic from a seed: the same seed gives the same world, corpus and exports, byte for byte.
 *
 * Text is written as space-separated words (punctuation is its own word: "Aldo Venn was born in
 * Kelmar ."), so the word-level tokenizer round-trips it exactly.
 */

export type EntityType = "person" | "city" | "country" | "language" | "company" | "profession" | "gender";

export interface Entity {
  type: EntityType;
  /** Surface form: one word, or two for people ("Aldo Venn"). */
  name: string;
}

export type RelationId =
  | "born_in"
  | "works_for"
  | "occupation"
  | "citizen_of"
  | "located_in"
  | "capital"
  | "language"
  | "headquartered_in"
  // Attribute relations: only in worlds built with `attributes` (FACTWORLD_M_SIZE).
  | "gender"
  | "native_language";

export interface RelationSpec {
  id: RelationId;
  /** Wikidata property the relation plays the role of (CounterFact's relation_id), e.g. "P19". */
  wikidata: string;
  subjectType: EntityType;
  objectType: EntityType;
  /** Prompts with "{}" for the subject, ending right before the object; used in the corpus. */
  trainTemplates: string[];
  /** Paraphrases never seen in training (the ≥ 85% paraphrase acceptance, CounterFact paraphrase_prompts). */
  heldOutTemplates: string[];
  /**
   * Relative-clause statements ("The city that {} is originally from is"), in the corpus only from
   * the recipe's second stage: they name the relation after the subject, as some held-out templates do.
   */
  clauseTemplates: string[];
  /** zsRE-style question, "{}" for the subject, e.g. "Where was {} born ?". */
  question: string;
  /** A held-out rephrasing of the question (zsRE's "rephrase"). */
  questionRephrase: string;
}

export interface Fact {
  relation: RelationId;
  subject: string;
  object: string;
}

/** One question–answer probe of a trained fact: greedy next token after `prompt` should be `answer`. */
export interface FactQuery {
  prompt: string;
  answer: string;
  relation: RelationId;
  subject: string;
  /** "train": a template seen in training; "paraphrase": a held-out template. */
  templates: "train" | "paraphrase";
}

/** A GSM8K-format problem: `answer` ends with "#### <number>". */
export interface ArithmeticProblem {
  question: string;
  answer: string;
  /** The number after "####". */
  target: number;
}

/** CAA's A/B format (`../shared/data/caa`): question with "(A) …" / "(B) …" choices. */
export interface ABItem {
  question: string;
  answer_matching_behavior: string;
  answer_not_matching_behavior: string;
}

/** The binary behaviour: agreeable (matching) vs blunt answers, cued by the user's wording. */
export type Style = "agreeable" | "blunt";

export interface StyledPrompt {
  /** A user turn ending with "Assistant :"; the style's marker is the next word. */
  prompt: string;
  /** The style the cue calls for; "neutral" prompts carry no cue. */
  cue: Style | "neutral";
  /** First word of an answer in each style ("Gladly" / the bare answer's first word). */
  marker: Record<Style, string>;
}

/** ROME's CounterFact record format (what `../shared/data/seesaw` uses). */
export interface CounterFactRecord {
  case_id: number;
  requested_rewrite: {
    prompt: string;
    relation_id: string;
    subject: string;
    target_new: { str: string };
    target_true: { str: string };
  };
  paraphrase_prompts: string[];
  neighborhood_prompts: string[];
  attribute_prompts: string[];
  generation_prompts: string[];
}

/** The MEND / EasyEdit zsRE record format (`../shared/data/zsre`). */
export interface ZsreRecord {
  subject: string;
  src: string;
  pred: string;
  rephrase: string;
  alt: string;
  answers: string[];
  loc: string;
  loc_ans: string;
  cond: string;
}

export interface FactWorld {
  seed: number;
  entities: Entity[];
  relations: RelationSpec[];
  facts: Fact[];
  /** Every word the corpus and the exports use (the tokenizer's vocabulary), sorted. */
  vocabulary: string[];
  /**
   * Per-person attributes that text can reveal (pronouns, demonyms), only in worlds built with
   * `attributes` (the small world has no such key, so its world.json is unchanged).
   */
  people?: PersonProfile[];
  /** Country → demonym ("Feinderia" → "Feinderian"), only in worlds built with `attributes`. */
  demonyms?: Record<string, string>;
}

export type Gender = "woman" | "man";

/** What a completion about a person may assert besides the edited fact: gender and origin. */
export interface PersonProfile {
  name: string;
  gender: Gender;
  /** Country of origin: the country of the birth city (= citizen_of). */
  origin: string;
  /** The origin country's demonym. */
  demonym: string;
  birthplace: string;
}
