/**
 * SAELens folders and Gemma Scope params.npz files on disk (Node). The conversions themselves are
 * browser-safe and live in formats.ts; this file only reads and writes (atomically) and names the
 * files in every error.
 */
import path from "node:path";
import type { HostTensor } from "../io/host-tensor.js";
import { readJsonFile, writeJsonFile } from "../io/json.js";
import { readNpzFile } from "../io/npz-node.js";
import { openSafetensorsFile, writeSafetensors } from "../io/safetensors-file.js";
import type { Dictionary } from "./dictionary.js";
import { SAELENS_CFG, SAELENS_WEIGHTS, dictionaryFromGemmaScope, dictionaryFromSaeLens, saeLensFromDictionary, type GemmaScopeOptions } from "./formats.js";

/** Load a SAELens SAE or transcoder folder (cfg.json + sae_weights.safetensors). */
export async function loadSaeLens(dir: string): Promise<Dictionary> {
  const cfgFile = path.join(dir, SAELENS_CFG);
  const weightsFile = path.join(dir, SAELENS_WEIGHTS);
  const cfg = await readJsonFile(cfgFile, { what: "the SAELens cfg.json" });
  const reader = await openSafetensorsFile(weightsFile);
  const tensors: Record<string, HostTensor> = {};
  try {
    for (const name of reader.names()) tensors[name] = await reader.read(name);
  } finally {
    await reader.close();
  }
  return dictionaryFromSaeLens(cfg, tensors, { cfg: cfgFile, weights: weightsFile });
}

/**
 * Write `d` as a SAELens folder that loadSaeLens (and SAELens' SAE.load_from_disk) reads back.
 * Weights first, config last: a folder whose cfg.json exists is complete.
 */
export async function saveSaeLens(dir: string, d: Dictionary): Promise<void> {
  const cfgFile = path.join(dir, SAELENS_CFG);
  const { cfg, tensors } = saeLensFromDictionary(d, cfgFile);
  await writeSafetensors(path.join(dir, SAELENS_WEIGHTS), tensors);
  await writeJsonFile(cfgFile, cfg);
}

/** Load a Gemma Scope params.npz as a JumpReLU SAE or transcoder. */
export async function loadGemmaScopeNpz(file: string, opts: GemmaScopeOptions): Promise<Dictionary> {
  const arrays = await readNpzFile(file);
  return dictionaryFromGemmaScope(arrays, file, opts);
}

