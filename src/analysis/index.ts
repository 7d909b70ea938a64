/** Statistics: seeded randomness, summaries, t-tests, bootstrap CIs, agreement. Browser-safe. */
export * from "../util/rng.js";
export * from "./descriptive.js";
export * from "./ttest.js";
export * from "./bootstrap.js";
export * from "./agreement.js";
export * from "./special.js";
