/**
 * The editors by name: getEditor("rome") etc. Each call returns a new editor instance; an
 * AlphaEdit instance carries the memory of earlier sequential edits (alphaedit.ts), so a
 * sequential run should use one instance throughout.
 */
import { UsageError } from "../errors.js";
import type { ModelConfig } from "../model/types.js";
import { didYouMean } from "../util/closest.js";
import { alphaEdit, AlphaEditState } from "./alphaedit.js";
import { ftEdit } from "./ft.js";
import { alphaEditDefaults, ftDefaults, memitDefaults, romeDefaults, type AlphaEditHparams, type FtHparams, type MemitHparams, type RomeHparams } from "./hparams.js";
import { EDITOR_DEFINITIONS } from "./definitions.js";
import { EDITOR_NAMES } from "./hparams-yaml.js";
import { memitEdit } from "./memit.js";
import { romeEdit } from "./rome.js";
import type { Editor } from "./types.js";

export { EDITOR_NAMES };

export interface AlphaEditEditor extends Editor<AlphaEditHparams> {
  /** Forget the keys of earlier edits (start a new sequential run). */
  reset(): void;
}

export function getEditor(name: "rome" | "r-rome"): Editor<RomeHparams>;
export function getEditor(name: "memit"): Editor<MemitHparams>;
export function getEditor(name: "alphaedit"): AlphaEditEditor;
export function getEditor(name: "ft" | "ft-l" | "ft-m"): Editor<FtHparams>;
export function getEditor(name: string): Editor<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export function getEditor(name: string): Editor<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const defined = EDITOR_DEFINITIONS.find((d) => d.name === name);
  if (defined) return defined.create();
  switch (name) {
    case "rome":
    case "r-rome": {
      const keyMode = name;
      return {
        name,
        defaults: (c: ModelConfig) => ({ ...romeDefaults(c), keyMode }),
        edit: (model, requests, hp, ctx) => romeEdit(model, requests, hp, ctx),
      } satisfies Editor<RomeHparams>;
    }
    case "memit":
      return { name, defaults: memitDefaults, edit: (model, requests, hp, ctx) => memitEdit(model, requests, hp, ctx) } satisfies Editor<MemitHparams>;
    case "alphaedit": {
      const state = new AlphaEditState();
      const editor: AlphaEditEditor = {
        name,
        defaults: alphaEditDefaults,
        edit: (model, requests, hp, ctx) => alphaEdit(model, requests, hp, ctx, state),
        reset: () => state.reset(),
        exportState: () => state.export(),
        importState: (saved) => state.import(saved),
      };
      return editor;
    }
    case "ft":
    case "ft-l":
    case "ft-m": {
      const variant = name;
      return { name, defaults: (c: ModelConfig) => ftDefaults(c, variant), edit: (model, requests, hp, ctx) => ftEdit(model, requests, hp, ctx, variant) } satisfies Editor<FtHparams>;
    }
    default:
      throw new UsageError("UNKNOWN_EDITOR", `unknown editing method '${name}'.${didYouMean(name, EDITOR_NAMES)}`, { fix: `use one of: ${EDITOR_NAMES.join(", ")}` });
  }
}
