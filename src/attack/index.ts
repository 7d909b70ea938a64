/** Adversarial attacks on language models: HotFlip token flips and universal triggers. */
export { candidateVocabulary, lossAndEmbeddingGrad, rowLosses, tokenEmbeddings, type AttackRow, type LossAndGrad } from "./objective.js";
export { bestFirstOrderSwaps, hotflip, type Flip, type HotFlipOptions, type HotFlipResult } from "./hotflip.js";
export { universalTrigger, withTrigger, type UatOptions, type UatResult, type UatStep } from "./uat.js";
export { attackRecord, DEFAULT_SUCCESS_THRESHOLD, summarizeAttack, type AttackRecord, type AttackSummary } from "./metrics.js";
export { attackRows, hotflipSet, uatSet, type AttackExample, type AttackSetResult } from "./experiment.js";
