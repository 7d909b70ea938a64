/**
 * Editors defined by one file each (EditorDefinition in types.ts): their config keys, defaults
 * and factory. Adding an editor is its file plus one line here; registry.ts makes instances and
 * hparams-yaml.ts reads their keys. (FT, ROME, MEMIT and AlphaEdit predate this list and are
 * wired in those two files directly.)
 */
import { graceEditor } from "./grace.js";
import { elderEditor } from "./elder.js";
import { mendEditor } from "./mend.js";
import { wiseEditor } from "./wise.js";
import type { EditorDefinition } from "./types.js";

export const EDITOR_DEFINITIONS: readonly EditorDefinition<any>[] = [graceEditor, elderEditor, mendEditor, wiseEditor]; // eslint-disable-line @typescript-eslint/no-explicit-any
