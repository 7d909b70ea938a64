/** Experiment kinds by name. A kind registers itself by being listed here (or via registerKind). */
import { ConfigError } from "../../errors.js";
import { closest } from "../../util/closest.js";
import type { ExperimentKind } from "./types.js";
import { optimizeFunction } from "./optimize-function.js";
import { editKind } from "./edit.js";
import { evalKind } from "./eval.js";
import { steerKind } from "./steer.js";
import { monotoneKind } from "./monotone.js";
import { deltaTranscoderKind } from "./delta-transcoder.js";
import { similarityKind } from "./similarity.js";

const kinds = new Map<string, ExperimentKind>();

export function registerKind(kind: ExperimentKind): void {
  if (kinds.has(kind.name) && kinds.get(kind.name) !== kind) throw new Error(`experiment kind '${kind.name}' registered twice`);
  kinds.set(kind.name, kind);
}

export function kindNames(): string[] {
  return [...kinds.keys()].sort();
}

export function getKind(name: string, file?: string): ExperimentKind {
  const kind = kinds.get(name);
  if (!kind) {
    const guess = closest(name, kindNames());
    throw new ConfigError("UNKNOWN_KIND", `kind: '${name}' is not one of ${kindNames().join(", ")}${guess ? ` — did you mean '${guess}'?` : ""}`, {
      file,
      field: "kind",
    });
  }
  return kind;
}

registerKind(optimizeFunction);
registerKind(editKind);
registerKind(evalKind);
registerKind(steerKind);
registerKind(monotoneKind);
registerKind(deltaTranscoderKind);
registerKind(similarityKind);
