/**
 * Any dictionary in scalpel's own file: a one-term dictionary-splice patch (model/patch-file.ts:
 * safetensors + a JSON header). Holds what SAELens' format cannot — TopK transcoders, an input bias
 * apart from b_dec — and loads back bit-identically. SAELens / Gemma Scope files: formats-node.ts.
 */
import { CheckpointError } from "../errors.js";
import type { Dictionary } from "../model/modules/dictionary.js";
import type { DictionarySplice } from "../model/modules/dictionary-splice.js";
import { loadPatch, savePatch } from "../model/patch-file.js";
import { single, splicePatch } from "./metrics.js";

export async function saveDictionary(file: string, dictionary: Dictionary): Promise<void> {
  await savePatch(file, splicePatch(single(dictionary)));
}

export async function loadDictionary(file: string): Promise<Dictionary> {
  const p = await loadPatch(file);
  const m = p.type === "module" ? (p.module as DictionarySplice) : undefined;
  if (!m || m.kind !== "dictionary-splice" || m.terms.length !== 1) {
    throw new CheckpointError("DICTIONARY_FILE", "not a dictionary file (a patch holding one dictionary splice)", { file, fix: "give a file written by saveDictionary" });
  }
  return m.terms[0]!.dictionary;
}
