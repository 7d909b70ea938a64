/**
 * Helpers shared by `scalpel edit`, `edit-eval` and `trace`: the model (built-in by default), the
 * editor by name (src/edit/registry.ts), hyperparameters from an EasyEdit-style YAML/JSON file or
 * inline JSON (src/edit/hparams-yaml.ts).
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "../../errors.js";
import { resolveHparams } from "../../edit/experiment.js";
import { EDITOR_NAMES, getEditor } from "../../edit/registry.js";
import type { Editor } from "../../edit/types.js";
import { loadModel } from "../../model/load.js";
import type { Model } from "../../model/types.js";
import { initEngine } from "../../tensor/engine.js";
import { didYouMean } from "../../util/closest.js";
import { resolveModelDir } from "../default-model.js";

export const EDIT_METHODS = EDITOR_NAMES;

/** --model DIR, or the built-in fact-world model when the flag is omitted. */
export async function editModel(flag: string | undefined): Promise<Model> {
  const dir = resolveModelDir(flag);
  await initEngine();
  return loadModel(dir);
}

/** The editor registered as `name`; a UsageError naming the valid methods otherwise. */
export function editorByName(command: string, name: string | undefined): Editor<Record<string, unknown>> {
  if (!name) throw new UsageError("MISSING_METHOD", `scalpel ${command}: --method is required`, { fix: `pass --method ${EDITOR_NAMES.join("|")}` });
  if (!(EDITOR_NAMES as readonly string[]).includes(name)) {
    throw new UsageError("UNKNOWN_METHOD", `scalpel ${command}: unknown editing method '${name}'.${didYouMean(name, EDITOR_NAMES)}`, { field: "--method", fix: `use one of ${EDITOR_NAMES.join(", ")}` });
  }
  return getEditor(name);
}

/** --hparams: an EasyEdit-style YAML/JSON file (hparams/ROME/gpt2-xl.yaml keys) or an inline JSON object, as text and the name errors use. */
export async function hparamsFlag(source: string | undefined): Promise<{ text?: string; source?: string }> {
  if (source === undefined) return {};
  if (source.trim().startsWith("{")) return { text: source, source: "--hparams" };
  try {
    return { text: await readFile(source, "utf8"), source };
  } catch {
    throw new UsageError("HPARAMS_NOT_FOUND", "cannot read the hyperparameter file", { file: source, fix: "pass a YAML/JSON file or an inline JSON object to --hparams" });
  }
}

/** The editor's defaults for this model, overridden by --hparams (unknown keys are ConfigErrors). */
export async function editHparams(editor: Editor<Record<string, unknown>>, model: Model, flag: string | undefined): Promise<Record<string, unknown>> {
  const { text, source } = await hparamsFlag(flag);
  return resolveHparams(editor.name, model, text, source);
}
