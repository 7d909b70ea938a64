/**
 * `scalpel edit`: one knowledge edit, shown as the model's completions before and after and the
 * metrics of that edit (src/eval/editing), optionally saved as a patch.
 */
import { UsageError } from "../../errors.js";
import type { EditCase } from "../../edit/types.js";
import { caseMetrics, type MetricSet } from "../../eval/editing/metrics.js";
import { rewritePrompt, scoreCases } from "../../eval/editing/score.js";
import { generate } from "../../model/generate.js";
import { applyPatch } from "../../model/patch.js";
import { savePatch } from "../../model/patch-file.js";
import type { Model } from "../../model/types.js";
import { parseFlags, type Command } from "../command.js";
import { editHparams, editModel, editorByName, EDIT_METHODS } from "./edit-shared.js";
import { numberFlag } from "./forward.js";
import { DEFAULT_STATS_DIR } from "../../edit/stats-store-node.js";

const usage = `scalpel edit — change one fact in a model and show what changed

usage: scalpel edit --method M --prompt "{} was born in" --subject S --target T [flags]

  --model DIR         checkpoint folder (default: the built-in fact-world model)
  --method M          ${EDIT_METHODS.join(" | ")}
  --prompt STR        the fact's prompt with "{}" where the subject goes
  --subject S         the subject ("Aldo Venn")
  --target T          the new object ("Kelmar")
  --target-true T     the current object (default: the unedited model's greedy next word)
  --paraphrase STR    another prompt that should now give the target (repeatable)
  --neighbor STR      a prompt about another subject that should keep --target-true (repeatable)
  --hparams FILE|JSON override the method's default hyperparameters (keys as the editor names them)
  --save-patch FILE   write the edit as a patch (.safetensors; apply with the library's loadPatch)
  --max-tokens N      completion length shown before/after (default 8)
  --json              print the result as JSON

Prints greedy completions of the prompt (and paraphrases / neighbours) before and after the
edit, then P(target) vs P(target-true) and ROME's efficacy / paraphrase / neighbourhood scores.

example:
  scalpel edit --method rome --prompt "{} was born in" --subject "Aldo Venn" --target Kelmar`;

export const editCommand: Command = {
  name: "edit",
  summary: "Edit one fact (ROME, MEMIT, AlphaEdit, FT) and show completions and metrics before/after",
  usage,
  async run(argv) {
    const { values } = parseFlags("edit", argv, {
      model: { type: "string" },
      method: { type: "string" },
      prompt: { type: "string" },
      subject: { type: "string" },
      target: { type: "string" },
      "target-true": { type: "string" },
      paraphrase: { type: "string", multiple: true },
      neighbor: { type: "string", multiple: true },
      hparams: { type: "string" },
      "save-patch": { type: "string" },
      "max-tokens": { type: "string" },
      json: { type: "boolean" },
    });
    for (const f of ["prompt", "subject", "target"] as const) {
      if (!values[f]) throw new UsageError("MISSING_FLAG", `scalpel edit: --${f} is required`, { fix: "run 'scalpel edit --help'" });
    }
    const prompt = values.prompt!;
    if (!prompt.includes("{}")) throw new UsageError("BAD_PROMPT", `--prompt must contain "{}" where the subject goes, got ${JSON.stringify(prompt)}`, { field: "--prompt", fix: 'e.g. --prompt "{} was born in"' });
    const maxTokens = numberFlag("edit", "max-tokens", values["max-tokens"], { integer: true, min: 1 }) ?? 8;
    const editor = editorByName("edit", values.method);
    const model = await editModel(values.model);
    try {
      const hparams = await editHparams(editor, model, values.hparams);
      const filled = prompt.replace("{}", values.subject!);
      const targetTrue = values["target-true"] ?? (await generate(model, [filled], { maxNewTokens: 1 })).texts[0]!.trim();
      const c: EditCase = {
        id: "cli",
        request: { prompt, subject: values.subject!, targetNew: values.target!, targetTrue: targetTrue || undefined },
        paraphrasePrompts: values.paraphrase ?? [],
        neighborhoodPrompts: values.neighbor ?? [],
        attributePrompts: [],
        generationPrompts: [],
        locality: (values.neighbor ?? []).map((p) => ({ prompt: p, target: targetTrue })),
        portability: [],
        source: "command line",
      };
      const shown = [rewritePrompt(c), ...c.paraphrasePrompts, ...c.neighborhoodPrompts];
      const before = await generate(model, shown, { maxNewTokens: maxTokens });
      const [pre] = await scoreCases(model, [c]);
      const t0 = performance.now();
      const patch = await editor.edit(model, [c.request], hparams, { cacheDir: DEFAULT_STATS_DIR });
      const seconds = (performance.now() - t0) / 1000;
      const edited = applyPatch(model, patch);
      try {
        const after = await generate(edited, shown, { maxNewTokens: maxTokens });
        const [post] = await scoreCases(edited, [c]);
        const metrics = { pre: caseMetrics(c, pre!), post: caseMetrics(c, post!, pre!) };
        const probs = (s: typeof pre) => ({ targetNew: Math.exp(-s!.rewrite[0]!.nllNew), targetTrue: Math.exp(-s!.rewrite[0]!.nllTrue) });
        if (values["save-patch"]) await savePatch(values["save-patch"], patch);
        if (values.json) {
          console.log(JSON.stringify({ request: c.request, seconds, completions: shown.map((p, i) => ({ prompt: p, before: before.texts[i], after: after.texts[i] })), probabilities: c.request.targetTrue ? { pre: probs(pre), post: probs(post) } : undefined, metrics, patch: values["save-patch"] }, null, 2));
          return;
        }
        printReport(model, c, shown, before.texts, after.texts, metrics, c.request.targetTrue ? { pre: probs(pre), post: probs(post) } : undefined, editor.name, seconds);
        if (values["save-patch"]) console.log(`\npatch saved to ${values["save-patch"]}`);
      } finally {
        edited.dispose();
      }
    } finally {
      model.dispose();
    }
  },
};

function printReport(
  _model: Model,
  c: EditCase,
  shown: string[],
  before: string[],
  after: string[],
  metrics: { pre: MetricSet; post: MetricSet },
  probs: { pre: { targetNew: number; targetTrue: number }; post: { targetNew: number; targetTrue: number } } | undefined,
  method: string,
  seconds: number,
): void {
  const r = c.request;
  console.log(`${method}: "${r.prompt.replace("{}", r.subject)}" → ${r.targetNew}${r.targetTrue ? ` (was ${r.targetTrue})` : ""}, edit took ${seconds.toFixed(1)} s\n`);
  shown.forEach((p, i) => {
    const kind = i === 0 ? "prompt" : i <= c.paraphrasePrompts.length ? "paraphrase" : "neighbour";
    console.log(`[${kind}] ${p}`);
    console.log(`   before: ${before[i]}`);
    console.log(`   after:  ${after[i]}`);
  });
  if (probs) {
    const f = (x: number) => x.toFixed(4);
    console.log(`\nP(${r.targetNew}): ${f(probs.pre.targetNew)} → ${f(probs.post.targetNew)}    P(${r.targetTrue}): ${f(probs.pre.targetTrue)} → ${f(probs.post.targetTrue)}   (exp of mean token log-prob)`);
  }
  console.log("\nmetric                 before   after");
  for (const k of Object.keys(metrics.post) as (keyof MetricSet)[]) {
    const a = metrics.pre[k];
    console.log(`${k.padEnd(22)} ${a === undefined ? "   —  " : a.toFixed(4)}   ${metrics.post[k]!.toFixed(4)}`);
  }
}
