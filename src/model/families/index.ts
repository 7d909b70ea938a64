/** Registry of architecture families, selected by config.json's model_type. Add one line per family. */
import { UnsupportedArchitectureError } from "../../errors.js";
import { didYouMean } from "../../util/closest.js";
import { gpt2 } from "./gpt2.js";
import { llama } from "./llama.js";
import type { Family } from "./types.js";
import { neox } from "./neox.js";
import { gptj } from "./gptj.js";
import { gemma2 } from "./gemma2.js";

export const families: Family[] = [
  gpt2,
  llama,
  neox,
  gptj,
  gemma2,
];

export function familyFor(modelType: unknown, file: string): Family {
  const supported = families.flatMap((f) => f.modelTypes);
  const family = families.find((f) => f.modelTypes.includes(String(modelType)));
  if (!family) {
    throw new UnsupportedArchitectureError(
      "UNSUPPORTED_ARCHITECTURE",
      `model_type '${String(modelType)}' is not supported.${didYouMean(String(modelType), supported)} Supported: ${supported.join(", ")}`,
      { file, field: "model_type", fix: "use a checkpoint of a supported family, or add a family module in src/model/families/" },
    );
  }
  return family;
}
