export { DatasetError } from "./errors.js";
export { counterFactCase } from "./counterfact.js";
export { mendCounterFactCase, zsreCase } from "./mend.js";
export { wiseHallucinationCase, wiseTemporalCase, wiseLocPrompts, isWiseHallucination, isWiseTemporal, type WiseRecord, type WiseTemporalRecord } from "./wise.js";
export { knownFact, knownFactCase, type KnownFact } from "./known-facts.js";
export { loadEditCases, loadKnownFacts, toEditCases, detectFormat, readRecords, EDIT_FORMATS, type EditDatasetFormat } from "./load.js";
export { disjointLocality, distinctSubjects, sharedSubjects } from "./select.js";
