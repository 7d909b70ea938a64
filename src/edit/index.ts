/** edit/: knowledge editors (DESIGN.md "edit/"). Append exports; one line per module. */
export type { EditRequest, EditCase, EditContext, Editor, PromptTarget } from "./types.js";
export { getEditor, EDITOR_NAMES, type AlphaEditEditor } from "./registry.js";
export { romeEdit, type RomeStep } from "./rome.js";
export { memitEdit, memitLayerUpdate } from "./memit.js";
export { alphaEdit, AlphaEditState, nullSpaceProjector, alphaEditLayerUpdate } from "./alphaedit.js";
export { ftEdit } from "./ft.js";
export { romeDefaults, memitDefaults, alphaEditDefaults, ftDefaults, type RomeHparams, type MemitHparams, type AlphaEditHparams, type FtHparams, type CovarianceHparams, type ValueHparams } from "./hparams.js";
export { readHparams, defaultsFor, type EditorName } from "./hparams-yaml.js";
export { collectMom2, moment, mom2Key, type Mom2Stats, type Mom2Options, type StatsStore } from "./covariance.js";
export { keyCovariance, declaredCorpus, factWorldCorpus, type Corpus } from "./mom2.js";
export { EditCaches } from "./caches.js";
export { computeTargetVector } from "./compute-value.js";
export { averagedKeys, keysAt } from "./compute-key.js";
export { contextTemplates } from "./context-templates.js";
