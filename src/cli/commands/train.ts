/** `scalpel train`: train (or keep training) any loadable model on a text file (src/train/). */
import path from "node:path";
import { UsageError } from "../../errors.js";
import { saveModel } from "../../model/load.js";
import { Progress } from "../../lab/progress.js";
import { train } from "../../train/loop.js";
import { readTextDocuments } from "../../train/text-data.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag, numberFlag } from "./forward.js";

const usage = `scalpel train — train a model on a text file (next-token cross-entropy, AdamW)

usage: scalpel train --data FILE --out DIR [--model DIR] [flags]

  --model DIR          checkpoint to start from (default: the built-in fact-world model)
  --data FILE          one document per line, or JSON lines with a "text" field (.jsonl)
  --out DIR            where the trained Hugging Face checkpoint goes; checkpoints in DIR/checkpoints
  --steps N            optimizer steps (default 1000)
  --lr X               peak learning rate (default 1e-3)
  --warmup N           linear warmup steps (default 100, at most steps/10 when not given)
  --min-lr-ratio X     cosine decays to lr·X (default 0.1)
  --batch N            rows per micro-batch (default 16)
  --accum N            micro-batches per step (default 1)
  --seq-len N          tokens per row (default 64, at most the model's context)
  --weight-decay X     AdamW decoupled decay on matrices (default 0.1)
  --clip X             global gradient-norm limit, 0 = off (default 1)
  --seed N             batch order seed (default 0)
  --checkpoint-every N save a resumable checkpoint every N steps (default 100)
  --resume             continue from the newest checkpoint in DIR/checkpoints (same flags required)

Each document is framed as BOS … EOS (with the tokenizer's tokens) and documents are packed
into rows. Prints the loss every --checkpoint-every steps; a progress bar shows loss and tokens/s.

examples:
  scalpel train --data corpus.txt --out runs/tiny --steps 500 --lr 3e-3
  scalpel train --data corpus.txt --out runs/tiny --steps 500 --lr 3e-3 --resume`;

export const trainCommand: Command = {
  name: "train",
  summary: "Train a model on a text file (AdamW, cosine schedule, resumable checkpoints)",
  usage,
  async run(argv) {
    const { values } = parseFlags("train", argv, {
      model: { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
      steps: { type: "string" },
      lr: { type: "string" },
      warmup: { type: "string" },
      "min-lr-ratio": { type: "string" },
      batch: { type: "string" },
      accum: { type: "string" },
      "seq-len": { type: "string" },
      "weight-decay": { type: "string" },
      clip: { type: "string" },
      seed: { type: "string" },
      "checkpoint-every": { type: "string" },
      resume: { type: "boolean" },
    });
    if (!values.data) throw new UsageError("MISSING_DATA", "--data FILE is required", { fix: "run 'scalpel train --help'" });
    if (!values.out) throw new UsageError("MISSING_OUT", "--out DIR is required", { fix: "run 'scalpel train --help'" });
    const n = (flag: string, opts: { integer?: boolean; min?: number; max?: number } = {}) => numberFlag("train", flag, values[flag as keyof typeof values] as string | undefined, opts);
    const totalSteps = n("steps", { integer: true, min: 1 }) ?? 1000;
    const model = await modelFromFlag("train", values.model);
    try {
      const documents = await readTextDocuments(values.data, model.tokenizer);
      const config = {
        totalSteps,
        lr: n("lr", { min: 0 }),
        warmupSteps: n("warmup", { integer: true, min: 0 }) ?? Math.min(100, Math.floor(totalSteps / 10)),
        minLrRatio: n("min-lr-ratio", { min: 0, max: 1 }),
        batchSize: n("batch", { integer: true, min: 1 }),
        gradAccumSteps: n("accum", { integer: true, min: 1 }),
        seqLen: n("seq-len", { integer: true, min: 1 }) ?? Math.min(64, model.config.nCtx),
        weightDecay: n("weight-decay", { min: 0 }),
        clipNorm: n("clip", { min: 0 }),
        seed: n("seed", { integer: true, min: 0 }),
        checkpointEvery: n("checkpoint-every", { integer: true, min: 0 }) ?? 100,
        logEvery: 1,
      };
      const progress = new Progress({ label: "train", total: totalSteps });
      const every = config.checkpointEvery || Math.max(1, Math.floor(totalSteps / 10));
      const result = await train({
        model,
        documents,
        config,
        checkpointDir: path.join(values.out, "checkpoints"),
        resume: values.resume ?? false,
        log: (e) => {
          progress.update(e.step, `loss ${e.loss.toFixed(4)} ${Math.round(e.tokensPerSec)} tok/s`);
          if (e.step % every === 0 || e.step === totalSteps) {
            console.error(`step ${e.step}/${totalSteps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} grad-norm ${e.gradNorm.toFixed(3)} ${Math.round(e.tokensPerSec)} tok/s`);
          }
        },
      });
      progress.finish();
      if (result.resumedFrom) console.error(`resumed from ${result.resumedFrom}`);
      await saveModel(result.model, values.out);
      result.model.dispose();
      const last = result.losses.at(-1);
      console.log(`trained ${result.step} steps${last ? `, final loss ${last.loss.toFixed(4)}` : ""}; saved ${values.out}`);
    } finally {
      model.dispose();
    }
  },
};
