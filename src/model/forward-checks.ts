/**
 * Checks of a forward call's inputs (typed errors for user mistakes: unknown hook names with a
 * suggestion, ragged or out-of-vocabulary tokens, mismatched masks and caches, too long inputs)
 * and borrowed parameter access.
 */
import { ConfigError } from "../errors.js";
import { didYouMean } from "../util/closest.js";
import { hookNames } from "./hook-names.js";
import type { Arr, ForwardOptions, ModelConfig, Params } from "./types.js";

const namesByConfig = new WeakMap<ModelConfig, Set<string>>();

function knownNames(config: ModelConfig): Set<string> {
  let s = namesByConfig.get(config);
  if (!s) namesByConfig.set(config, (s = new Set(hookNames(config))));
  return s;
}

function checkName(config: ModelConfig, name: string, field: string): void {
  const known = knownNames(config);
  if (!known.has(name)) {
    throw new ConfigError("UNKNOWN_HOOK", `'${name}' is not a hook point of this model.${didYouMean(name, [...known])}`, {
      field,
      fix: "use a name from model.hookNames()",
    });
  }
}

export function validateForward(config: ModelConfig, tokens: number[][], options: ForwardOptions): void {
  for (const name of Object.keys(options.hooks ?? {})) checkName(config, name, "hooks");
  if (Array.isArray(options.cache)) for (const name of options.cache as string[]) checkName(config, name, "cache");
  if (options.stopAt !== undefined) checkName(config, options.stopAt, "stopAt");
  const len = tokens[0]?.length ?? 0;
  const padTo = options.kvPadTo;
  if (padTo !== undefined && !(Number.isInteger(padTo) && padTo > 0)) {
    throw new ConfigError("BAD_OPTION", `kvPadTo must be a positive integer, got ${padTo}`, { field: "kvPadTo" });
  }
  if (tokens.length === 0 || len === 0) throw new ConfigError("EMPTY_INPUT", "tokens must be a non-empty [batch][pos] array", { field: "tokens" });
  checkLogitsPositions(options.logitsPositions, tokens.length, len);
  const start = options.startFrom;
  if (start) {
    const want = [tokens.length, len, config.dModel];
    if (!(Number.isInteger(start.layer) && start.layer >= 0 && start.layer <= config.nLayers)) {
      throw new ConfigError("BAD_OPTION", `startFrom.layer must be an integer in [0, ${config.nLayers}], got ${start.layer}`, { field: "startFrom.layer" });
    }
    if (start.resid.shape.join() !== want.join()) {
      throw new ConfigError("BAD_OPTION", `startFrom.resid must be [${want.join(", ")}] (batch, pos, d_model), got [${start.resid.shape.join(", ")}]`, { field: "startFrom.resid" });
    }
    if (options.returnKV || options.kvPadTo !== undefined || options.kv?.padTo !== undefined) {
      throw new ConfigError("BAD_OPTION", "startFrom cannot return a KV cache: the skipped blocks would have no keys and values", {
        field: "startFrom",
        fix: "run the whole pass to build a KV cache (startFrom may read one, without room: kv.padTo unset)",
      });
    }
  }
  const q = options.queryPositions;
  if (q !== undefined && (q.length !== tokens.length || q.some((p) => !(Number.isInteger(p) && p >= 0 && p < len)))) {
    throw new ConfigError("BAD_OPTION", `queryPositions must hold one position in [0, ${len}) per row (${tokens.length} rows)`, { field: "queryPositions" });
  }
  for (const row of tokens) {
    if (row.length !== len) throw new ConfigError("RAGGED_INPUT", "every row of tokens must have the same length (pad and pass attentionMask)", { field: "tokens" });
    for (const t of row) {
      if (!Number.isInteger(t) || t < 0 || t >= config.vocabSize) {
        throw new ConfigError("BAD_TOKEN", `token id ${t} is outside the vocabulary [0, ${config.vocabSize})`, { field: "tokens" });
      }
    }
  }
  const mask = options.attentionMask;
  if (mask && (mask.length !== tokens.length || mask.some((r) => r.length !== len))) {
    throw new ConfigError("BAD_MASK", "attentionMask must have the same [batch][pos] shape as tokens", { field: "attentionMask" });
  }
  const kv = options.kv;
  // With startFrom, a cache holds the blocks the pass runs: startFrom.layer… only.
  const blocks = config.nLayers - (start?.layer ?? 0);
  if (kv && (kv.layers.length !== blocks || kv.mask.length !== tokens.length)) {
    throw new ConfigError("BAD_KV", `kv cache does not match this model or batch (it needs ${blocks} blocks and ${tokens.length} rows)`, { field: "kv" });
  }
  if (config.positional === "learned") {
    const past = kv?.length ?? 0;
    if (past + len > config.nCtx) {
      throw new ConfigError("CONTEXT_TOO_LONG", `${past + len} positions exceed the model's context of ${config.nCtx}`, { field: "tokens" });
    }
  }
}

/** Borrowed parameter access: a new reference, or a clear error naming the missing parameter. */
export function paramGetter(params: Params) {
  const get = (name: string): Arr => {
    const a = params[name];
    if (!a) throw new ConfigError("MISSING_PARAM", `parameter '${name}' is missing`, { field: name, fix: "load a complete checkpoint" });
    return a.ref;
  };
  const opt = (name: string): Arr | undefined => params[name]?.ref;
  return { get, opt };
}

/** "all", "last", or a rectangular [batch][P] list of positions inside the pass. */
function checkLogitsPositions(lp: ForwardOptions["logitsPositions"], batch: number, len: number): void {
  if (lp === undefined || lp === "all" || lp === "last") return;
  const bad = (why: string) => new ConfigError("BAD_OPTION", `logitsPositions ${why}`, { field: "logitsPositions", fix: 'give "all", "last", or one list of positions per row, each of the same length' });
  if (!Array.isArray(lp)) throw bad(`must be "all", "last" or positions per row, got ${JSON.stringify(lp)}`);
  if (lp.length !== batch) throw bad(`has ${lp.length} rows for a batch of ${batch}`);
  const P = lp[0]?.length ?? 0;
  if (P === 0) throw bad("lists no position for row 0");
  lp.forEach((row, b) => {
    if (!Array.isArray(row) || row.length !== P) throw bad(`row ${b} has ${Array.isArray(row) ? row.length : "no"} positions, row 0 has ${P}`);
    for (const t of row) if (!Number.isInteger(t) || t < 0 || t >= len) throw bad(`row ${b}: position ${t} is outside 0…${len - 1}`);
  });
}
