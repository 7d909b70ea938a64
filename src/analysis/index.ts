/** Statistics: seeded randomness, summaries, t-tests, bootstrap CIs, agreement, hidden-state similarity, PCA, t-SNE. Browser-safe. */
export * from "../util/rng.js";
export * from "./descriptive.js";
export * from "./ttest.js";
export * from "./bootstrap.js";
export * from "./agreement.js";
export * from "./special.js";
export * from "./similarity.js";
export * from "./pca.js";
export { tsne, conditionalP, jointP, klDivergence, squaredDistances, type TsneOptions, type TsneResult } from "./tsne.js";
