/** The tasks `scalpel eval` and the eval kind run when none are named: the fact world's QA and arithmetic (light, for config schemas). */
export const DEFAULT_TASKS = ["factworld-qa", "factworld-paraphrase", "factworld-arithmetic"];
