/**
 * `scalpel mend train`: meta-train a MEND editor network (edit/mend-train.ts) on zsRE-format edit
 * records and save it as a .safetensors network (edit/mend-file-node.ts) for the "mend" editor's
 * `archive` hparam. A thin flag parser: every number goes to trainMend as is.
 */
import path from "node:path";
import { UsageError } from "../../errors.js";
import { EDIT_FORMATS, loadEditCases, type EditDatasetFormat } from "../../data/editing/load.js";
import { MEND_SMALL_MODEL as D, MEND_SPLIT, trainMend } from "../../edit/mend-train.js";
import { mendCheckpointFile, saveMendNetwork } from "../../edit/mend-file-node.js";
import { resolveModelDir } from "../default-model.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag, numberFlag } from "./forward.js";
import { asUsage, subcommand } from "./subcommands.js";

const usage = `scalpel mend — MEND (Mitchell et al. 2022): meta-train a gradient-transforming editor network

usage: scalpel mend train --out FILE [--model DIR] [--data FILE] [flags]

mend train — learn g(u, δ) so that one transformed gradient step makes an edit (resumable)
  --model DIR            base checkpoint (default: the built-in fact-world model)
  --data FILE            edit records (default: the model's data/zsre.json)
  --format F             ${EDIT_FORMATS.join(" | ")} (default: detected)
  --train-from N         first training record (default 200: records before it are kept for evaluation)
  --val-count N          the last N records are the validation split (default 36)
  --inner-params LIST    comma-separated matrices (default: mlp.W_in, mlp.W_out of the last 3 layers)
  --rank R               LRLinear rank (default 64)      --n-hidden N  hidden layers (default 1)
  --lr X                 network learning rate (default 1e-4)
  --edit-lr X            initial per-matrix edit lr (default 1e-3)
  --lr-lr X              learning rate of the edit lrs (default 1e-3)
  --cedit X / --cloc X   loss weights (default 0.1 / 1)
  --batch-size N         edits per step (default 1)    --accumulate-bs N  steps per update (default 5)
  --grad-clip X          global gradient-norm clip (default 100)
  --steps N              training steps, max_iters (default 150)
  --val-interval N       validate every N steps (default 50; 0 = never)
  --val-steps N          validation records used (default 36)
  --patience N           early-stop patience in steps (default 20000)
  --seed N               init and data-order seed (default 42)
  --checkpoint FILE      resumable checkpoint (.safetensors); an existing one is continued
  --checkpoint-every N   (default 50)
  --out FILE             where the trained network goes (.safetensors)

Defaults suit the built-in model (EasyEdit's 7B values: rank 1920, lr 1e-6, edit_lr 1e-4, lr_lr 1e-4,
accumulate_bs 10, 100000 steps).

example:
  scalpel mend train --steps 150 --checkpoint runs/mend-ckpt.safetensors --out models/factworld/mend.safetensors`;

async function train(argv: string[]): Promise<number> {
  const cmd = "mend train";
  const { values } = parseFlags(cmd, argv, {
    model: { type: "string" }, data: { type: "string" }, format: { type: "string" },
    "train-from": { type: "string" }, "val-count": { type: "string" }, "inner-params": { type: "string" },
    rank: { type: "string" }, "n-hidden": { type: "string" }, lr: { type: "string" }, "edit-lr": { type: "string" },
    "lr-lr": { type: "string" }, cedit: { type: "string" }, cloc: { type: "string" }, "batch-size": { type: "string" },
    "accumulate-bs": { type: "string" }, "grad-clip": { type: "string" }, steps: { type: "string" },
    "val-interval": { type: "string" }, "val-steps": { type: "string" }, patience: { type: "string" }, seed: { type: "string" },
    checkpoint: { type: "string" }, "checkpoint-every": { type: "string" }, out: { type: "string" },
  });
  const n = (flag: keyof typeof values, opts: { integer?: boolean; min?: number; max?: number } = {}) => numberFlag("mend", flag, values[flag] as string | undefined, opts);
  if (!values.out) throw new UsageError("MISSING_OUT", `scalpel ${cmd}: --out FILE is required`, { fix: "run 'scalpel mend --help'" });
  const format = values.format as EditDatasetFormat | undefined;
  if (format !== undefined && !EDIT_FORMATS.includes(format)) throw new UsageError("BAD_FLAG_VALUE", `scalpel ${cmd}: --format ${format} is not one of ${EDIT_FORMATS.join(", ")}`, { field: "--format" });
  const data = values.data ?? path.join(resolveModelDir(values.model), "data", "zsre.json");
  const cases = await loadEditCases(data, format ? { format } : {});
  const from = n("train-from", { integer: true, min: 0 }) ?? MEND_SPLIT.trainFrom;
  const valCount = n("val-count", { integer: true, min: 0 }) ?? MEND_SPLIT.valCount;
  const trainCases = cases.slice(from, cases.length - valCount);
  const valCases = valCount > 0 ? cases.slice(cases.length - valCount) : [];
  if (trainCases.length === 0) throw new UsageError("EMPTY_SPLIT", `scalpel ${cmd}: no training records (${cases.length} records, --train-from ${from}, --val-count ${valCount})`, { file: data, fix: "lower --train-from or --val-count" });
  const model = await modelFromFlag(cmd, values.model);
  try {
    const steps = n("steps", { integer: true, min: 1 }) ?? D.maxIters!;
    console.error(`MEND: ${trainCases.length} training and ${valCases.length} validation records from ${data}; ${steps} steps`);
    const result = await asUsage(cmd, "BAD_MEND_OPTIONS", () => trainMend(model, trainCases, valCases, {
      innerParams: values["inner-params"]?.split(",").map((s) => s.trim()).filter(Boolean),
      net: { rank: n("rank", { integer: true, min: 1 }) ?? D.net!.rank!, nHidden: n("n-hidden", { integer: true, min: 0 }) ?? D.net!.nHidden!, norm: true },
      lr: n("lr", { min: 0 }) ?? D.lr,
      editLr: n("edit-lr") ?? D.editLr,
      lrLr: n("lr-lr", { min: 0 }) ?? D.lrLr,
      cEdit: n("cedit", { min: 0 }) ?? D.cEdit,
      cLoc: n("cloc", { min: 0 }) ?? D.cLoc,
      batchSize: n("batch-size", { integer: true, min: 1 }) ?? D.batchSize,
      accumulateBs: n("accumulate-bs", { integer: true, min: 1 }) ?? D.accumulateBs,
      gradClip: n("grad-clip", { min: 0 }) ?? D.gradClip,
      maxIters: steps,
      valInterval: n("val-interval", { integer: true, min: 0 }) ?? D.valInterval,
      valSteps: n("val-steps", { integer: true, min: 1 }) ?? D.valSteps,
      earlyStopPatience: n("patience", { integer: true, min: 1 }) ?? 20000,
      seed: n("seed", { integer: true, min: 0 }) ?? D.seed,
      checkpointEvery: n("checkpoint-every", { integer: true, min: 1 }) ?? D.checkpointEvery,
      ...(values.checkpoint ? { checkpoint: mendCheckpointFile(values.checkpoint) } : {}),
      onStep: (s) => {
        if (s.step % 10 === 0 || s.valAcc !== undefined) console.error(`step ${s.step}/${steps} loss ${s.loss.toFixed(4)} edit ${s.lossEdit.toFixed(4)} loc ${s.lossLoc.toFixed(4)}${s.valAcc !== undefined ? ` val edit acc ${s.valAcc.toFixed(3)}` : ""}`);
      },
    }));
    const bytes = await saveMendNetwork(values.out, result.net);
    console.log(`trained ${result.steps} steps in ${result.seconds.toFixed(1)} s${result.valAcc !== undefined ? `, validation edit success ${result.valAcc.toFixed(3)}` : ""}${result.stoppedEarly ? " (early stop)" : ""}; network (${bytes} bytes) saved to ${values.out}`);
  } finally {
    model.dispose();
  }
  return 0;
}

export const mendCommand: Command = {
  name: "mend",
  summary: "MEND: meta-train a gradient-transforming editor network for the 'mend' editor",
  usage,
  async run(argv) {
    const { rest } = subcommand("mend", argv, ["train"] as const);
    return train(rest);
  },
};
