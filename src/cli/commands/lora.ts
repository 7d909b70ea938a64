/**
 * `scalpel lora train | merge`: LoRA supervised fine-tuning (train/lora-train.ts) written as a PEFT
 * adapter folder (train/peft-files-node.ts), and merging such an adapter into a model checkpoint.
 */
import { UsageError } from "../../errors.js";
import { applyPatch } from "../../model/patch.js";
import { savePatch } from "../../model/patch-file.js";
import { saveModel } from "../../model/load.js";
import { loraTargetNames, mergeLora } from "../../train/lora.js";
import { trainLora } from "../../train/lora-train.js";
import { loadPeftAdapter, savePeftAdapter } from "../../train/peft-files-node.js";
import type { SftExample } from "../../train/sft-batches.js";
import { readSftExamples } from "../../train/sft-file-node.js";
import { resolveModelDir } from "../default-model.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag, numberFlag } from "./forward.js";
import { asUsage, subcommand } from "./subcommands.js";

const DEFAULT_TARGETS = "blocks.*.mlp.W_in,blocks.*.attn.W_Q";

const usage = `scalpel lora — LoRA fine-tuning: train a PEFT adapter, or merge one into a model

usage: scalpel lora train --data FILE|builtin-tools --out DIR [--model DIR] [flags]
       scalpel lora merge --adapter DIR --out DIR [--model DIR] [--patch FILE]

lora train — fine-tune a low-rank adapter (base weights frozen; loss on the completion tokens)
  --model DIR          base checkpoint (default: the built-in fact-world model)
  --data FILE          {"prompt", "completion"} records: a JSON array or JSON lines (.jsonl);
                       builtin-tools: the fact world's calculator-call / copy examples
  --examples N         how many builtin-tools examples (default 512)
  --targets LIST       comma-separated weight names or patterns, * = any layer
                       (default ${DEFAULT_TARGETS})
  --rank R             adapter rank (default 8)
  --alpha A            scale numerator: ΔW = (A/R)·A·B (default 16)
  --dropout P          dropout on the adapter's input (default 0.05)
  --lr X               peak learning rate (default 2e-3)
  --steps N            optimizer steps (default 100)
  --warmup N           linear warmup steps (default steps/10, at most 100)
  --batch-size N       examples per step (default 16)
  --seed N             init, order and dropout seed (default 0)
  --out DIR            where the PEFT adapter goes (adapter_config.json + adapter_model.safetensors)
  --checkpoint-dir DIR save resumable checkpoints here
  --checkpoint-every N checkpoint interval with --checkpoint-dir (default 50)
  --resume             continue from the newest checkpoint in --checkpoint-dir (same flags required)

lora merge — add ΔW = (α/r)·A·B to the base weights and save the merged model
  --model DIR          base checkpoint (default: the built-in fact-world model)
  --adapter DIR        a PEFT LoRA adapter folder (from 'scalpel lora train' or PEFT's save_pretrained)
  --out DIR            where the merged Hugging Face checkpoint goes
  --patch FILE         also save the merge as a weight patch (.safetensors; the library's loadPatch)

examples:
  scalpel lora train --data builtin-tools --steps 100 --out runs/tools-lora
  scalpel lora train --data sft.jsonl --targets "blocks.*.attn.W_Q,blocks.*.attn.W_V" --rank 16 --out runs/lora
  scalpel lora merge --adapter runs/tools-lora --out runs/tools-merged --patch runs/tools.safetensors`;

async function sftData(command: string, data: string | undefined, examples: number | undefined): Promise<SftExample[]> {
  if (!data) throw new UsageError("MISSING_DATA", `scalpel ${command}: --data FILE|builtin-tools is required`, { fix: `run 'scalpel ${command} --help'` });
  if (data !== "builtin-tools") {
    if (examples !== undefined) throw new UsageError("BAD_FLAGS", `scalpel ${command}: --examples only applies to --data builtin-tools`, { fix: "drop --examples" });
    return readSftExamples(data);
  }
  const { buildFactWorld } = await import("../../data/factworld/index.js");
  const { toolSftExamples } = await import("../../data/factworld/tools.js");
  return toolSftExamples(buildFactWorld(), examples ?? 512).map(({ prompt, completion }) => ({ prompt, completion }));
}

async function train(argv: string[]): Promise<number> {
  const cmd = "lora train";
  const { values } = parseFlags(cmd, argv, {
    model: { type: "string" },
    data: { type: "string" },
    examples: { type: "string" },
    targets: { type: "string" },
    rank: { type: "string" },
    alpha: { type: "string" },
    dropout: { type: "string" },
    lr: { type: "string" },
    steps: { type: "string" },
    warmup: { type: "string" },
    "batch-size": { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    "checkpoint-dir": { type: "string" },
    "checkpoint-every": { type: "string" },
    resume: { type: "boolean" },
  });
  const n = (flag: keyof typeof values, opts: { integer?: boolean; min?: number; max?: number } = {}) => numberFlag("lora", flag, values[flag] as string | undefined, opts);
  if (!values.out) throw new UsageError("MISSING_OUT", `scalpel ${cmd}: --out DIR is required`, { fix: "run 'scalpel lora --help'" });
  if (values.resume && !values["checkpoint-dir"]) throw new UsageError("MISSING_FLAG", `scalpel ${cmd}: --resume needs --checkpoint-dir DIR`, { fix: "pass the --checkpoint-dir of the run to continue" });
  const totalSteps = n("steps", { integer: true, min: 1 }) ?? 100;
  const lora = {
    targets: (values.targets ?? DEFAULT_TARGETS).split(",").map((s) => s.trim()).filter(Boolean),
    rank: n("rank", { integer: true, min: 1 }) ?? 8,
    alpha: n("alpha") ?? 16,
    dropout: n("dropout", { min: 0, max: 0.999 }) ?? 0.05,
  };
  if (lora.targets.length === 0) throw new UsageError("BAD_FLAG_VALUE", `scalpel ${cmd}: --targets names no weights`, { fix: `e.g. --targets "${DEFAULT_TARGETS}"` });
  const config = {
    lr: n("lr", { min: 0 }) ?? 2e-3,
    totalSteps,
    warmupSteps: n("warmup", { integer: true, min: 0 }) ?? Math.min(100, Math.floor(totalSteps / 10)),
    batchSize: n("batch-size", { integer: true, min: 1 }) ?? 16,
    seed: n("seed", { integer: true, min: 0 }) ?? 0,
    checkpointEvery: values["checkpoint-dir"] ? (n("checkpoint-every", { integer: true, min: 1 }) ?? 50) : 0,
  };
  const examples = await sftData(cmd, values.data, n("examples", { integer: true, min: 1 }));
  const baseModel = resolveModelDir(values.model);
  const model = await modelFromFlag(cmd, values.model);
  try {
    const targets = await asUsage(cmd, "BAD_TARGETS", () => loraTargetNames(model, lora.targets));
    console.error(`LoRA r=${lora.rank} α=${lora.alpha} dropout=${lora.dropout} on ${targets.length} matrices; ${examples.length} examples, ${totalSteps} steps × ${config.batchSize}`);
    const every = Math.max(1, Math.floor(totalSteps / 10));
    const result = await trainLora({
      model,
      examples,
      lora,
      config,
      ...(values["checkpoint-dir"] ? { checkpointDir: values["checkpoint-dir"] } : {}),
      resume: values.resume ?? false,
      log: (r) => {
        if (r.step % every === 0 || r.step === totalSteps || r.step === 1) {
          console.error(`step ${r.step}/${totalSteps} loss ${r.loss.toFixed(4)} lr ${r.lr.toExponential(2)} grad-norm ${r.gradNorm.toFixed(3)}`);
        }
      },
    });
    if (result.resumedFrom) console.error(`resumed from ${result.resumedFrom}`);
    await savePeftAdapter(values.out, result.adapter, model.config, { baseModel });
    const first = result.losses[0];
    const last = result.losses.at(-1);
    console.log(`trained ${result.step} steps${first && last ? `, loss ${first.loss.toFixed(4)} → final loss ${last.loss.toFixed(4)}` : ""}; PEFT adapter saved to ${values.out}`);
  } finally {
    model.dispose();
  }
  return 0;
}

async function merge(argv: string[]): Promise<number> {
  const cmd = "lora merge";
  const { values } = parseFlags(cmd, argv, {
    model: { type: "string" },
    adapter: { type: "string" },
    out: { type: "string" },
    patch: { type: "string" },
  });
  if (!values.adapter) throw new UsageError("MISSING_ADAPTER", `scalpel ${cmd}: --adapter DIR is required`, { fix: "run 'scalpel lora --help'" });
  if (!values.out) throw new UsageError("MISSING_OUT", `scalpel ${cmd}: --out DIR is required`, { fix: "run 'scalpel lora --help'" });
  const model = await modelFromFlag(cmd, values.model);
  try {
    const adapter = await loadPeftAdapter(values.adapter, model.config);
    const patch = mergeLora(adapter);
    const merged = await asUsage(cmd, "ADAPTER_MISMATCH", () => applyPatch(model, patch));
    try {
      await saveModel(merged, values.out);
    } finally {
      merged.dispose();
    }
    if (values.patch) await savePatch(values.patch, patch);
    console.log(`merged ${Object.keys(adapter.targets).length} LoRA matrices (r=${adapter.rank}, α=${adapter.alpha}); model saved to ${values.out}${values.patch ? `, weight patch to ${values.patch}` : ""}`);
  } finally {
    model.dispose();
  }
  return 0;
}

export const loraCommand: Command = {
  name: "lora",
  summary: "LoRA fine-tuning: train a PEFT adapter on prompt/completion data; merge one into a model",
  usage,
  async run(argv) {
    const { sub, rest } = subcommand("lora", argv, ["train", "merge"] as const);
    return sub === "train" ? train(rest) : merge(rest);
  },
};
