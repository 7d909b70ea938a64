export * from "./counterfact.js";
export * from "./token-accuracy.js";
export * from "./fluency.js";
export * from "./tfidf.js";
export * from "./score.js";
export * from "./metrics.js";
export * from "./attributes.js";
