/**
 * `scalpel forward`: run one text through a model and save tokens, logits and any requested
 * activations to a .safetensors file (for checking scalpel against another implementation, or
 * for analysis elsewhere). Also home of the --model / number-flag helpers the model commands share.
 */
import { UsageError } from "../../errors.js";
import { resolveModelDir } from "../default-model.js";
import { writeSafetensors } from "../../io/safetensors-file.js";
import type { HostTensor } from "../../io/host-tensor.js";
import { loadModel } from "../../model/load.js";
import type { Model } from "../../model/types.js";
import { initEngine } from "../../tensor/engine.js";
import { readF32 } from "../../tensor/own.js";
import { didYouMean } from "../../util/closest.js";
import { parseFlags, type Command } from "../command.js";

/** Load the model named by --model; a UsageError when it is missing (no built-in model yet). */
export async function modelFromFlag(_command: string, dir: string | undefined): Promise<Model> {
  const resolved = resolveModelDir(dir);
  await initEngine();
  return loadModel(resolved);
}

/** Parse a numeric flag; `integer` and `min` checked, the flag named in the error. */
export function numberFlag(command: string, flag: string, value: string | undefined, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const bad =
    value.trim() === "" ||
    !Number.isFinite(n) ||
    (opts.integer && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) ||
    (opts.max !== undefined && n > opts.max);
  if (bad) {
    const kind = opts.integer ? "an integer" : "a number";
    const range = [opts.min !== undefined && `≥ ${opts.min}`, opts.max !== undefined && `≤ ${opts.max}`].filter(Boolean).join(" and ");
    throw new UsageError("BAD_FLAG_VALUE", `--${flag} must be ${kind}${range ? ` ${range}` : ""}, got '${value}'`, {
      fix: `run 'scalpel ${command} --help'`,
    });
  }
  return n;
}

const usage = `scalpel forward — run a text through a model; save tokens and logits as safetensors

usage: scalpel forward [--model DIR] --text STR --out FILE.safetensors [--cache HOOK ...]

  --model DIR     Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.json);
                  default: the built-in fact-world model
  --text STR      the input text; special tokens (BOS) are added only if the tokenizer's
                  config asks for them
  --out FILE      output .safetensors file (written atomically)
  --cache HOOK    also save this hook point's activation (repeatable; see 'scalpel inspect')

Writes tensors:
  tokens   int32   [pos]           the token ids fed to the model
  logits   float32 [pos, vocab]    next-token logits at every position
  HOOK     float32 [pos, ...]      each --cache activation, batch dimension dropped

examples:
  scalpel forward --model ./gpt2 --text "The Eiffel Tower is in" --out eiffel.safetensors
  scalpel forward --model ./gpt2 --text "Hello" --out h.safetensors --cache blocks.5.hook_resid_post`;

export const forwardCommand: Command = {
  name: "forward",
  summary: "Run a text through a model; save tokens, logits (and activations) as safetensors",
  usage,
  async run(argv) {
    const { values } = parseFlags("forward", argv, {
      model: { type: "string" },
      text: { type: "string" },
      out: { type: "string" },
      cache: { type: "string", multiple: true },
    });
    if (values.text === undefined) throw new UsageError("MISSING_TEXT", "--text STR is required", { fix: "run 'scalpel forward --help'" });
    if (!values.out) throw new UsageError("MISSING_OUT", "--out FILE.safetensors is required", { fix: "run 'scalpel forward --help'" });
    const model = await modelFromFlag("forward", values.model);
    try {
      const names = model.hookNames();
      for (const h of values.cache ?? []) {
        if (!names.includes(h)) {
          throw new UsageError("UNKNOWN_HOOK", `no hook point '${h}' in this model.${didYouMean(h, names)}`, {
            fix: "run 'scalpel inspect --model DIR' for the hook point names",
          });
        }
      }
      const ids = model.tokenizer.encode(values.text).ids;
      if (ids.length === 0) throw new UsageError("EMPTY_TEXT", "the text encodes to no tokens", { fix: "give a non-empty --text" });
      if (ids.length > model.config.nCtx) {
        throw new UsageError("TEXT_TOO_LONG", `the text has ${ids.length} tokens, more than the model's context (${model.config.nCtx})`);
      }
      const { logits, cache } = model.forward([ids], { cache: values.cache ?? [] });
      const tensors: Record<string, HostTensor> = { tokens: { dtype: "int32", shape: [ids.length], data: Int32Array.from(ids) } };
      const [, T, V] = logits!.shape as [number, number, number];
      tensors.logits = { dtype: "float32", shape: [T, V], data: await readF32(logits!) };
      for (const [name, arr] of Object.entries(cache)) {
        const shape = arr.shape.slice(1); // drop batch (= 1)
        tensors[name] = { dtype: "float32", shape, data: await readF32(arr) };
      }
      await writeSafetensors(values.out, tensors, { format: "pt", producer: "scalpel forward" });
      console.log(`wrote ${values.out}: tokens [${ids.length}], logits [${T}, ${V}]${values.cache?.length ? `, ${values.cache.length} activation(s)` : ""}`);
    } finally {
      model.dispose();
    }
  },
};
