/**
 * Helpers shared by `scalpel edit`, `edit-eval` and `trace`: the model (built-in by default), the
 * editor by name (src/edit/registry.ts), hyperparameters from an EasyEdit-style YAML/JSON file or
 * inline JSON (src/edit/hparams-yaml.ts).
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "../../errors.js";
import { readHparams, type EditorName } from "../../edit/hparams-yaml.js";
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

/**
 * The editor's defaults for this model, overridden by --hparams: an EasyEdit-style YAML/JSON file
 * (hparams/ROME/gpt2-xl.yaml keys) or an inline JSON object; unknown keys are ConfigErrors.
 */
export async function editHparams(editor: Editor<Record<string, unknown>>, model: Model, source: string | undefined): Promise<Record<string, unknown>> {
  if (source === undefined) return editor.defaults(model.config);
  const inline = source.trim().startsWith("{");
  let text = source;
  if (!inline) {
    try {
      text = await readFile(source, "utf8");
    } catch {
      throw new UsageError("HPARAMS_NOT_FOUND", "cannot read the hyperparameter file", { file: source, fix: "pass a YAML/JSON file or an inline JSON object to --hparams" });
    }
  }
  return readHparams(editor.name as EditorName, text, model.config, inline ? "--hparams" : source);
}
