/** The built-in model and its dataset exports, for the commands (defined in data/builtin-node.ts so experiment kinds share them). */
export * from "../data/builtin-node.js";
