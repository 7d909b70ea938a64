/**
 * The registry of attached-module kinds: one line per kind (DESIGN.md "Patches come in kinds
 * registered in one place"). model/patch.ts applies, patch-hash.ts hashes and patch-file.ts saves
 * module patches through it.
 */
import type { AttachedModule, ModuleKind } from "../attached.js";
import { dictionarySpliceKind } from "./dictionary-splice.js";
import { graceKind } from "./grace.js";
import { elderKind } from "./elder.js";
import { loraKind } from "./lora.js";
import { wiseKind } from "./wise.js";

const KINDS: ModuleKind<never>[] = [loraKind, dictionarySpliceKind, graceKind, elderKind, wiseKind] as unknown as ModuleKind<never>[];

export function moduleKind(kind: string): ModuleKind<AttachedModule> {
  const k = KINDS.find((x) => x.kind === kind);
  if (!k) throw new RangeError(`unknown attached-module kind "${kind}" (known: ${KINDS.map((x) => x.kind).join(", ")})`);
  return k as unknown as ModuleKind<AttachedModule>;
}
