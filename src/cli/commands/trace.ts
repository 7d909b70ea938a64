/**
 * `scalpel trace`: ROME's causal tracing of one fact (src/edit/causal-trace.ts): which hidden
 * states carry the subject's information to the answer, as a heat map; with several facts, the
 * layer where the MLP's average indirect effect at the last subject token peaks (the layer to edit).
 */
import { UsageError } from "../../errors.js";
import { calculateHiddenFlow, embeddingStd, lastSubjectTokenEffect, type HiddenFlow, type TraceKind } from "../../edit/causal-trace.js";
import { traceHeatmapSvg } from "../../edit/trace-figure.js";
import { loadEditCases } from "../../data/editing/load.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { parseFlags, type Command } from "../command.js";
import { editModel } from "./edit-shared.js";
import { numberFlag } from "./forward.js";

const KINDS: Record<string, TraceKind> = { hidden: "", mlp: "mlp", attn: "attn" };

const usage = `scalpel trace — causal tracing (ROME): where does the model recall a fact?

usage: scalpel trace --prompt STR --subject S [flags]
       scalpel trace --data FILE --n N [flags]     (average indirect effect over N facts)

  --model DIR       checkpoint folder (default: the built-in fact-world model)
  --prompt STR      the fact's prompt, subject written out ("Aldo Venn was born in")
  --subject S       the subject whose token embeddings are corrupted
  --data FILE       instead: facts from a CounterFact / zsRE / known-facts file (their rewrite prompts)
  --n N             how many facts of --data (default 20)
  --kind K          hidden (block outputs, default) | mlp | attn (window of --window layers)
  --window W        layers restored together for mlp/attn (ROME: 10; default min(10, ⌈layers/4⌉))
  --samples S       corrupted copies averaged (default 10)
  --noise X         noise std (default 3 × the std of subject-token embeddings, as ROME)
  --seed S          noise seed (default 1)
  --out FILE        heat-map SVG of the (first) fact
  --json            print the tables as JSON

Prints P(answer) clean and corrupted, the table of P(answer) with each (token, layer) state
restored, and the layer with the largest indirect effect at the subject's last token.`;

export const traceCommand: Command = {
  name: "trace",
  summary: "Causal tracing (ROME): restoration heat map and the layer that recalls a fact",
  usage,
  async run(argv) {
    const { values } = parseFlags("trace", argv, {
      model: { type: "string" },
      prompt: { type: "string" },
      subject: { type: "string" },
      data: { type: "string" },
      n: { type: "string" },
      kind: { type: "string" },
      window: { type: "string" },
      samples: { type: "string" },
      noise: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
    });
    const kind = KINDS[values.kind ?? "hidden"];
    if (kind === undefined) throw new UsageError("BAD_KIND", `--kind must be hidden, mlp or attn, got '${values.kind}'`, { field: "--kind" });
    let facts: { prompt: string; subject: string }[];
    if (values.data) {
      const n = numberFlag("trace", "n", values.n, { integer: true, min: 1 }) ?? 20;
      const cases = await loadEditCases(values.data, { limit: n });
      facts = cases.map((c) => ({ prompt: c.request.prompt.replace("{}", c.request.subject), subject: c.request.subject }));
    } else {
      if (!values.prompt || !values.subject) throw new UsageError("MISSING_FLAG", "scalpel trace: --prompt and --subject are required (or --data FILE)", { fix: 'e.g. --prompt "Aldo Venn was born in" --subject "Aldo Venn"' });
      facts = [{ prompt: values.prompt, subject: values.subject }];
    }
    const samples = numberFlag("trace", "samples", values.samples, { integer: true, min: 1 }) ?? 10;
    const seed = numberFlag("trace", "seed", values.seed, { integer: true }) ?? 1;
    const model = await editModel(values.model);
    try {
      const window = numberFlag("trace", "window", values.window, { integer: true, min: 1 }) ?? Math.min(10, Math.ceil(model.config.nLayers / 4));
      const noise = numberFlag("trace", "noise", values.noise, { min: 0 }) ?? 3 * (await embeddingStd(model, facts.map((f) => f.subject)));
      const flows: HiddenFlow[] = [];
      for (const f of facts) flows.push(await calculateHiddenFlow(model, f.prompt, f.subject, { noise, samples, seed, kind, window }));
      const { aie, bestLayer } = lastSubjectTokenEffect(flows);
      if (values.out) await writeFileAtomic(values.out, traceHeatmapSvg(flows[0]!));
      if (values.json) {
        console.log(JSON.stringify({ noise, kind: values.kind ?? "hidden", window: kind === "" ? 1 : window, flows, averageIndirectEffect: aie, bestLayer }, null, 1));
        return;
      }
      console.log(`noise std ${noise.toFixed(4)} (3 × subject-embedding std unless --noise), ${samples} corrupted copies, kind ${values.kind ?? "hidden"}${kind ? `, window ${window}` : ""}`);
      if (flows.length === 1) {
        const f = flows[0]!;
        console.log(`answer "${f.answer.trim()}": P clean ${f.highScore.toFixed(4)}, corrupted ${f.lowScore.toFixed(4)}\n`);
        console.log(`${"token".padEnd(16)} ${f.scores[0]!.map((_, l) => `L${l}`.padStart(7)).join("")}`);
        f.scores.forEach((row, t) => {
          const star = t >= f.subjectRange[0] && t < f.subjectRange[1] ? "*" : "";
          console.log(`${(f.tokens[t]!.trim() + star).slice(0, 16).padEnd(16)} ${row.map((v) => v.toFixed(4).padStart(7)).join("")}`);
        });
      } else {
        console.log(`${flows.length} facts; mean P clean ${(flows.reduce((s, f) => s + f.highScore, 0) / flows.length).toFixed(4)}, corrupted ${(flows.reduce((s, f) => s + f.lowScore, 0) / flows.length).toFixed(4)}`);
      }
      console.log(`\naverage indirect effect at the last subject token, by layer: ${aie.map((v) => v.toFixed(4)).join(" ")}`);
      console.log(`largest at layer ${bestLayer}${kind === "mlp" ? " — the layer to edit with ROME" : kind === "" ? " (use --kind mlp to choose a ROME edit layer)" : ""}`);
      if (values.out) console.log(`heat map: ${values.out}`);
    } finally {
      model.dispose();
    }
  },
};
