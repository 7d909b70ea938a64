/** `scalpel attack hotflip|uat`: HotFlip flips on one example, or a universal trigger over several (attack/). */
import { UsageError } from "../../errors.js";
import { attackRecord, attackRows, hotflip, universalTrigger } from "../../attack/index.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag, numberFlag } from "./forward.js";

const usage = `scalpel attack — adversarial text against a language model

usage: scalpel attack hotflip [--model DIR] --prompt STR --target STR [--budget N] [--beam B] [--candidates K]
       scalpel attack uat     [--model DIR] --prompt STR --target STR [--prompt … --target …] [--length K] [--iterations N]

  --model DIR        Hugging Face checkpoint folder (default: the built-in fact-world model)
  --prompt STR       the text an attack may change (HotFlip) or prefix (UAT); repeat for UAT's batch
  --target STR       its continuation, whose perplexity the attack raises (one per --prompt)
  --budget N         HotFlip: tokens flipped at most (default 1)
  --beam B           HotFlip: sequences kept after each flip (default 1 = greedy)
  --candidates K     first-order candidates evaluated per step (HotFlip default 1, UAT default 8)
  --length K         UAT: trigger tokens (default 3)
  --iterations N     UAT: search iterations (default 10)
  --goal G           UAT: untargeted (raise the targets' loss, default) or targeted (lower it)
  --json             print the result as JSON

Prints the attacked text, the target's perplexity before and after, and the relative degradation
(an attack "succeeds" above 15%). HotFlip: Ebrahimi et al. 2018; UAT: Wallace et al. 2019.

examples:
  scalpel attack hotflip --prompt "Aldo Venn was born in" --target "Kelmar" --budget 2
  scalpel attack uat --prompt "A was born in" --target "B" --prompt "C works for" --target "D"`;

export const attackCommand: Command = {
  name: "attack",
  summary: "HotFlip token flips or a universal adversarial trigger; target perplexity before/after",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags("attack", argv, {
      model: { type: "string" },
      prompt: { type: "string", multiple: true },
      target: { type: "string", multiple: true },
      budget: { type: "string" },
      beam: { type: "string" },
      candidates: { type: "string" },
      length: { type: "string" },
      iterations: { type: "string" },
      goal: { type: "string" },
      json: { type: "boolean" },
    }, true);
    const method = positionals[0];
    if (method !== "hotflip" && method !== "uat") throw new UsageError("ATTACK_METHOD", `scalpel attack: give hotflip or uat, got ${method === undefined ? "nothing" : `'${method}'`}`, { fix: "scalpel attack hotflip|uat --prompt STR --target STR" });
    const prompts = values.prompt ?? [];
    const targets = values.target ?? [];
    if (prompts.length === 0 || prompts.length !== targets.length) throw new UsageError("ATTACK_EXAMPLES", `give one --target per --prompt (got ${prompts.length} prompts, ${targets.length} targets)`, { fix: "scalpel attack --help" });
    if (values.goal !== undefined && values.goal !== "untargeted" && values.goal !== "targeted") throw new UsageError("ATTACK_GOAL", `--goal must be untargeted or targeted, got '${values.goal}'`);
    const int = (name: string, v: string | undefined) => numberFlag("attack", name, v, { integer: true, min: 1 });
    const model = await modelFromFlag("attack", values.model);
    const rows = attackRows(model, prompts.map((prompt, i) => ({ prompt, target: targets[i]! })));
    const text = (ids: number[]) => model.tokenizer.decode(ids, { skipSpecialTokens: true });
    if (method === "hotflip") {
      const r = await hotflip(model, rows[0]!, { budget: int("budget", values.budget), beam: int("beam", values.beam), candidates: int("candidates", values.candidates) });
      const rec = attackRecord("0", r.lossBefore, r.lossAfter);
      if (values.json) console.log(JSON.stringify({ text: text(r.tokens.slice(0, rows[0]!.targetStart)), flips: r.flips, ...rec }));
      else {
        console.log(`attacked: ${text(r.tokens.slice(0, rows[0]!.targetStart))}  →  ${targets[0]}`);
        for (const f of r.flips) console.log(`  position ${f.position}: ${JSON.stringify(model.tokenizer.decode([f.from]))} → ${JSON.stringify(model.tokenizer.decode([f.to]))} (first-order estimate ${f.estimate.toFixed(3)})`);
        console.log(`perplexity of the target: ${rec.pplBefore.toFixed(3)} → ${rec.pplAfter.toFixed(3)} (${(100 * rec.degradation).toFixed(1)}%${rec.success ? ", success" : ""})`);
      }
      return 0;
    }
    const r = await universalTrigger(model, rows, { length: int("length", values.length), iterations: int("iterations", values.iterations), candidates: int("candidates", values.candidates), goal: values.goal as "untargeted" | "targeted" | undefined });
    const records = r.rowsClean.map((b, i) => attackRecord(String(i), b, r.rowsTriggered[i]!));
    if (values.json) console.log(JSON.stringify({ trigger: text(r.trigger), triggerIds: r.trigger, history: r.history, records }));
    else {
      console.log(`trigger: ${JSON.stringify(text(r.trigger))} (mean target loss ${r.lossClean.toFixed(3)} clean, ${r.lossInitial.toFixed(3)} initial trigger, ${r.lossFinal.toFixed(3)} final)`);
      records.forEach((rec, i) => console.log(`  ${prompts[i]} → ${targets[i]}: perplexity ${rec.pplBefore.toFixed(3)} → ${rec.pplAfter.toFixed(3)} (${(100 * rec.degradation).toFixed(1)}%${rec.success ? ", success" : ""})`));
    }
    return 0;
  },
};
