/**
 * What the model-based kinds (edit, eval, steer) share: the `model:` field (a Hugging Face
 * checkpoint folder, or the built-in model when null), a fingerprint of the files a stage reads
 * (so a changed checkpoint or dataset invalidates its artifacts, though the path is the same), and
 * the loaded model as a process-wide resource, loaded once for all stages and in-process trials.
 *
 * Kind modules import only what their schemas need; their stages import the method code when they
 * run (dynamic imports), so validating a config (`scalpel check`) stays well under a second.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../../errors.js";
import { BUILTIN_DATA, BUILTIN_DATA_DIR, BUILTIN_MODEL_DIR } from "../../data/builtin-node.js";
import type { Model } from "../../model/types.js";
import { s } from "../schema/schema.js";
import type { StageContext } from "./types.js";

export const modelField = s.nullable(s.string()).describeAs("Hugging Face checkpoint folder (config.json + safetensors + tokenizer.json); null = the built-in fact-world model");

export const modelDir = (model: string | null): string => path.resolve(model ?? BUILTIN_MODEL_DIR);

/** Built-in edit datasets by format: the fact world's export in that format (CounterFact by default). */
const BUILTIN_EDIT_FILES: Record<string, string> = {
  zsre: BUILTIN_DATA.zsre,
  "wise-hallucination": BUILTIN_DATA.wiseHallucination,
  "wise-temporal": BUILTIN_DATA.wiseTemporal,
};

/**
 * An edit dataset file: the one given, else the export in `format` that comes with the model
 * (<model>/data/, as train-default writes it: factworld-m's own records), else the built-in model's.
 */
export function editDataFile(data: string | null, format: string | null, model: string | null = null): string {
  if (data !== null) return data;
  const name = BUILTIN_EDIT_FILES[format ?? ""] ?? BUILTIN_DATA.counterfact;
  const own = path.join(modelDir(model), "data", name);
  return existsSync(own) ? own : path.join(BUILTIN_DATA_DIR, name);
}

/** Path, size and modification time of a file, or of a folder's files (one level): cheap, and changes when the content does. */
export function fingerprint(file: string): { path: string; files: [string, number, number][] } {
  const abs = path.resolve(file);
  let st;
  try {
    st = statSync(abs);
  } catch {
    return { path: abs, files: [] }; // the stage reading it reports the missing file with its fix
  }
  if (!st.isDirectory()) return { path: abs, files: [[path.basename(abs), st.size, st.mtimeMs]] };
  const files = readdirSync(abs)
    .sort()
    .flatMap((name: string): [string, number, number][] => {
      const f = statSync(path.join(abs, name));
      return f.isFile() ? [[name, f.size, f.mtimeMs]] : [];
    });
  return { path: abs, files };
}

/** The model a stage runs on, loaded once per process and shared (never dispose it in a stage). */
export async function stageModel(ctx: StageContext<unknown>, model: string | null): Promise<Model> {
  const dir = modelDir(model);
  try {
    statSync(path.join(dir, "config.json"));
  } catch {
    throw new ConfigError("MODEL_NOT_FOUND", `no checkpoint at ${dir} (config.json missing)`, { field: "config.model", fix: "give a Hugging Face checkpoint folder, or null for the built-in model" });
  }
  return ctx.resource(`model:${dir}`, async () => {
    // Loaded here, not at import: `scalpel check` reads the kinds' schemas without the engine.
    const [{ initEngine }, { loadModel }] = await Promise.all([import("../../tensor/engine.js"), import("../../model/load.js")]);
    await initEngine();
    return loadModel(dir);
  });
}
