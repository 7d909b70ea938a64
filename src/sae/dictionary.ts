/** The dictionary type lives with the model's attached modules (it is spliced into forwards); sae/ trains and loads it. */
export * from "../model/modules/dictionary.js";
