/** `scalpel generate`: continue one or more prompts, greedy or sampled (model/generate.ts). */
import { UsageError } from "../../errors.js";
import { generate } from "../../model/generate.js";
import { isSampling } from "../../model/sampling.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag, numberFlag } from "./forward.js";

const usage = `scalpel generate — continue a prompt with a model

usage: scalpel generate [--model DIR] --prompt STR [--prompt STR ...] [flags]

  --model DIR         Hugging Face checkpoint folder (default: the built-in fact-world model)
  --prompt STR        prompt text (repeat for a batch; prompts are left-padded and decoded together)
  --max-tokens N      most tokens to generate per prompt (default 32)
  --temperature T     0 = greedy (the default); > 0 samples
  --top-k K           sample among the K most likely tokens (Hugging Face top_k)
  --top-p P           sample among the smallest set of tokens with probability ≥ P (top_p)
  --seed S            sampler seed (default 0): the same seed gives the same text
  --stop STR          stop when the continuation contains STR, and cut it there (repeatable)
  --no-eos            keep going past the end-of-sequence token
  --json              print {prompt, text, tokens, finishReason} per prompt as JSON lines

Decoding is greedy unless --temperature > 0, --top-k or --top-p is given (then temperature
defaults to 1). Prints the continuation of each prompt (without the prompt).

examples:
  scalpel generate --model ./gpt2 --prompt "The capital of France is" --max-tokens 10
  scalpel generate --model ./gpt2 --prompt "Once upon a time" --temperature 0.8 --top-p 0.95 --seed 1
  scalpel generate --model ./gpt2 --prompt "Q: 2+2=" --stop $'\\n' --json     (bash: $'\\n' is a newline)`;

export const generateCommand: Command = {
  name: "generate",
  summary: "Continue a prompt with a model (greedy, temperature, top-k, top-p, stop strings)",
  usage,
  async run(argv) {
    const { values } = parseFlags("generate", argv, {
      model: { type: "string" },
      prompt: { type: "string", multiple: true },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-k": { type: "string" },
      "top-p": { type: "string" },
      seed: { type: "string" },
      stop: { type: "string", multiple: true },
      "no-eos": { type: "boolean" },
      json: { type: "boolean" },
    });
    const prompts = values.prompt ?? [];
    if (prompts.length === 0) throw new UsageError("MISSING_PROMPT", "--prompt STR is required", { fix: "run 'scalpel generate --help'" });
    const options = {
      maxNewTokens: numberFlag("generate", "max-tokens", values["max-tokens"], { integer: true, min: 0 }) ?? 32,
      temperature: numberFlag("generate", "temperature", values.temperature, { min: 0 }),
      topK: numberFlag("generate", "top-k", values["top-k"], { integer: true, min: 1 }),
      topP: numberFlag("generate", "top-p", values["top-p"], { min: 0, max: 1 }),
      seed: numberFlag("generate", "seed", values.seed, { integer: true }),
      stop: values.stop,
      eosTokenId: values["no-eos"] ? null : undefined,
    };
    if (options.seed !== undefined && !isSampling(options)) {
      console.error("scalpel generate: note: --seed has no effect with greedy decoding (add --temperature T)");
    }
    const model = await modelFromFlag("generate", values.model);
    try {
      const res = await generate(model, prompts, options);
      prompts.forEach((prompt, i) => {
        if (values.json) {
          console.log(JSON.stringify({ prompt, text: res.texts[i], tokens: res.tokens[i], finishReason: res.finishReasons[i] }));
        } else {
          if (prompts.length > 1) console.log(`--- [${i}] ${JSON.stringify(prompt)} (${res.finishReasons[i]})`);
          console.log(res.texts[i]);
        }
      });
    } finally {
      model.dispose();
    }
  },
};
