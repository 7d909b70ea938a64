/**
 * The relations of the fact world and their surface templates ("{}" = the subject; every template
 * ends right before the object). Train templates appear in the training corpus; held-out templates
 * never do — they are the paraphrase test (CounterFact's paraphrase_prompts). Held-out templates
 * reuse words the corpus teaches elsewhere in new arrangements, so answering them needs the fact,
 * not the memorised string. Clause templates (relative clauses naming the relation after the
 * subject) enter the corpus in the recipe's second stage; they never equal a held-out template.
 */
import type { RelationSpec } from "./types.js";

export const RELATIONS: RelationSpec[] = [
  {
    id: "born_in",
    wikidata: "P19",
    subjectType: "person",
    objectType: "city",
    trainTemplates: [
      "{} was born in",
      "{} is originally from",
      "The birthplace of {} is",
      "{} is a native of",
      "The hometown of {} is",
      "Records show that {} was born in",
      "{} was born and raised in",
      "Question : where was {} born ? Answer :",
    ],
    clauseTemplates: ["The city that {} is originally from is", "The city that {} is a native of is"],
    heldOutTemplates: ["The city where {} was born is", "As everyone knows , {} is originally from", "In short , the birthplace of {} is"],
    question: "Question : where was {} born ? Answer :",
    questionRephrase: "Question : what is the hometown of {} ? Answer :",
  },
  {
    id: "works_for",
    wikidata: "P108",
    subjectType: "person",
    objectType: "company",
    trainTemplates: [
      "{} works for",
      "{} is employed by",
      "The employer of {} is",
      "{} has a job at",
      "Every morning , {} goes to work at",
      "{} works at the company",
      "Records show that {} works for",
      "Question : who employs {} ? Answer :",
    ],
    clauseTemplates: ["The company that {} works for is", "The company where {} has a job is"],
    heldOutTemplates: ["The company that employs {} is", "As everyone knows , {} has a job at", "In short , the employer of {} is"],
    question: "Question : who employs {} ? Answer :",
    questionRephrase: "Question : which company does {} work for ? Answer :",
  },
  {
    id: "occupation",
    wikidata: "P106",
    subjectType: "person",
    objectType: "profession",
    trainTemplates: [
      "{} works as a",
      "The profession of {} is",
      "By profession , {} is a",
      "{} has a career as a",
      "{} was trained as a",
      "The job of {} is",
      "Records show that {} works as a",
      "Question : what is the job of {} ? Answer :",
    ],
    clauseTemplates: ["The job that {} has is that of a", "The career that {} has is that of a"],
    heldOutTemplates: ["The work that {} does is that of a", "As everyone knows , {} has a career as a", "In short , the profession of {} is"],
    question: "Question : what is the job of {} ? Answer :",
    questionRephrase: "Question : what does {} work as ? Answer :",
  },
  {
    id: "citizen_of",
    wikidata: "P27",
    subjectType: "person",
    objectType: "country",
    trainTemplates: [
      "{} is a citizen of",
      "{} holds a passport from",
      "The nationality of {} is",
      "{} has citizenship in",
      "The home country of {} is",
      "{} votes in the elections of",
      "Records show that {} is a citizen of",
      "Question : which country is {} a citizen of ? Answer :",
    ],
    clauseTemplates: ["The country that {} holds a passport from is", "The country where {} votes in the elections is"],
    heldOutTemplates: ["The country that {} is a citizen of is", "As everyone knows , {} holds a passport from", "In short , the nationality of {} is"],
    question: "Question : which country is {} a citizen of ? Answer :",
    questionRephrase: "Question : what is the nationality of {} ? Answer :",
  },
  {
    id: "located_in",
    wikidata: "P17",
    subjectType: "city",
    objectType: "country",
    trainTemplates: [
      "{} is located in",
      "{} is a city in",
      "The city of {} lies in",
      "{} is in the country of",
      "{} can be found in",
      "{} is part of",
      "Records show that {} is located in",
      "Question : which country is {} in ? Answer :",
    ],
    clauseTemplates: ["The country where {} is located is", "The country that {} is part of is"],
    heldOutTemplates: ["The city of {} is located in", "As everyone knows , {} is a city in", "In short , {} can be found in"],
    question: "Question : which country is {} in ? Answer :",
    questionRephrase: "Question : where is the city of {} located ? Answer :",
  },
  {
    id: "capital",
    wikidata: "P36",
    subjectType: "country",
    objectType: "city",
    trainTemplates: [
      "The capital of {} is",
      "{} has its capital in",
      "The capital city of {} is",
      "The seat of government of {} is",
      "{} is governed from",
      "{} , whose capital is",
      "Records show that the capital of {} is",
      "Question : what is the capital of {} ? Answer :",
    ],
    clauseTemplates: ["The city that {} is governed from is", "The city where {} has its capital is"],
    heldOutTemplates: ["The city that is the capital of {} is", "As everyone knows , {} has its capital in", "In short , the capital city of {} is"],
    question: "Question : what is the capital of {} ? Answer :",
    questionRephrase: "Question : which city is the capital of {} ? Answer :",
  },
  {
    id: "language",
    wikidata: "P37",
    subjectType: "country",
    objectType: "language",
    trainTemplates: [
      "The official language of {} is",
      "In {} , people speak",
      "The language of {} is",
      "People in {} speak",
      "The main language spoken in {} is",
      "Schools in {} teach in",
      "Records show that people in {} speak",
      "Question : what language do people in {} speak ? Answer :",
    ],
    clauseTemplates: ["The language that is the official language of {} is", "The language that is spoken in {} is"],
    heldOutTemplates: ["The language that people in {} speak is", "As everyone knows , in {} , people speak", "In short , the official language of {} is"],
    question: "Question : what language do people in {} speak ? Answer :",
    questionRephrase: "Question : what is the official language of {} ? Answer :",
  },
  {
    id: "headquartered_in",
    wikidata: "P159",
    subjectType: "company",
    objectType: "city",
    trainTemplates: [
      "{} is headquartered in",
      "The headquarters of {} are in",
      "{} has its main office in",
      "{} is based in",
      "The head office of {} is in",
      "The offices of {} are in",
      "Records show that {} is based in",
      "Question : where is {} based ? Answer :",
    ],
    clauseTemplates: ["The city where {} has its main office is", "The city where the offices of {} are is"],
    heldOutTemplates: ["The city where {} is based is", "As everyone knows , {} has its main office in", "In short , the headquarters of {} are in"],
    question: "Question : where is {} based ? Answer :",
    questionRephrase: "Question : in which city is the head office of {} ? Answer :",
  },
];

/**
 * Relations of the attribute worlds only (FACTWORLD_M_SIZE): a person's gender (P21) and native
 * language (P103, the language of the birth country). Kept out of RELATIONS so the small world,
 * whose corpus and exports iterate RELATIONS, stays byte-identical. No train template is
 * "{} is a": that prefix already continues with "citizen of", "native of" and, in the attribute
 * world, a demonym ("{} is a Feinderian doctor ."), so a gender fact there would compete with them.
 */
export const ATTRIBUTE_RELATIONS: RelationSpec[] = [
  {
    id: "gender",
    wikidata: "P21",
    subjectType: "person",
    objectType: "gender",
    trainTemplates: [
      "The gender of {} is",
      "{} identifies as a",
      "{} is by gender a",
      "{} is known to be a",
      "{} lives as a",
      "The person {} is a",
      "Records show that the gender of {} is",
      "Question : what is the gender of {} ? Answer :",
    ],
    clauseTemplates: ["The gender that {} identifies as is that of a", "The word that describes the gender of {} is"],
    heldOutTemplates: ["The gender that {} is known by is", "As everyone knows , {} identifies as a", "In short , the gender of {} is"],
    question: "Question : what is the gender of {} ? Answer :",
    questionRephrase: "Question : is {} a woman or a man ? Answer :",
  },
  {
    id: "native_language",
    wikidata: "P103",
    subjectType: "person",
    objectType: "language",
    trainTemplates: [
      "The native language of {} is",
      "{} grew up speaking",
      "The mother tongue of {} is",
      "{} was raised speaking",
      "The first language of {} is",
      "{} is a native speaker of",
      "Records show that the native language of {} is",
      "Question : what is the native language of {} ? Answer :",
    ],
    clauseTemplates: ["The language that {} grew up speaking is", "The language that {} was raised speaking is"],
    heldOutTemplates: ["The language that is the mother tongue of {} is", "As everyone knows , {} grew up speaking", "In short , the native language of {} is"],
    question: "Question : what is the native language of {} ? Answer :",
    questionRephrase: "Question : what is the mother tongue of {} ? Answer :",
  },
];

/** The attribute world's relations: the small world's, then gender and native language. */
export const M_RELATIONS: RelationSpec[] = [...RELATIONS, ...ATTRIBUTE_RELATIONS];

/**
 * Sentence openers the corpus puts before some statements (of every relation), so that held-out
 * prompts starting with one of them test the fact, not an unseen word.
 */
export const OPENERS = ["As everyone knows ,", "In short ,", "In fact ,", "Of course ,", "It is true that"];

export function relation(id: RelationSpec["id"]): RelationSpec {
  const r = RELATIONS.find((x) => x.id === id) ?? ATTRIBUTE_RELATIONS.find((x) => x.id === id);
  if (!r) throw new RangeError(`unknown relation ${id}`);
  return r;
}

export function fill(template: string, subject: string): string {
  return template.replace("{}", subject);
}
