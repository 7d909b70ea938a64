/** `scalpel inspect`: what a checkpoint is — architecture, parameter count, hook point names. */
import { paramCount } from "../../model/model.js";
import type { Model } from "../../model/types.js";
import { parseFlags, type Command } from "../command.js";
import { modelFromFlag } from "./forward.js";
import { resolveModelDir } from "../default-model.js";

const usage = `scalpel inspect — show a model's configuration, parameter count and hook points

usage: scalpel inspect [--model DIR] [--all-hooks] [--json]

  --model DIR     Hugging Face checkpoint folder (default: the built-in fact-world model)
  --all-hooks     list every hook point name (default: per-layer names folded as blocks.{0..L-1}.…)
  --json          print the summary as one JSON object

Hook point names (TransformerLens style) are what --cache, hooks and interventions refer to.

examples:
  scalpel inspect --model ./gpt2
  scalpel inspect --model ./gpt2 --all-hooks | grep resid_post`;

/** Fold per-layer names: blocks.0.x … blocks.{L-1}.x → "blocks.{0..L-1}.x", keeping first-seen order. */
export function foldHookNames(names: readonly string[]): string[] {
  const layers = new Map<string, number[]>();
  const out: string[] = [];
  for (const n of names) {
    const m = /^blocks\.(\d+)\.(.+)$/.exec(n);
    if (!m) {
      out.push(n);
      continue;
    }
    const suffix = m[2]!;
    if (!layers.has(suffix)) {
      layers.set(suffix, []);
      out.push(`\u0000${suffix}`); // placeholder, filled once all layers are known
    }
    layers.get(suffix)!.push(Number(m[1]));
  }
  return out.map((n) => {
    if (!n.startsWith("\u0000")) return n;
    const suffix = n.slice(1);
    const ls = layers.get(suffix)!;
    const contiguous = ls.every((l, i) => l === ls[0]! + i);
    const range = ls.length === 1 ? String(ls[0]) : contiguous ? `{${ls[0]}..${ls.at(-1)}}` : `{${ls.join(",")}}`;
    return `blocks.${range}.${suffix}`;
  });
}

export function describe(model: Model, dir: string) {
  const c = model.config;
  return {
    model: dir,
    modelType: c.modelType,
    layers: c.nLayers,
    dModel: c.dModel,
    heads: c.nHeads,
    kvHeads: c.nKVHeads,
    dHead: c.dHead,
    dMlp: c.dMlp,
    vocab: c.vocabSize,
    nCtx: c.nCtx,
    norm: c.norm,
    normEps: c.normEps,
    act: c.act,
    gatedMlp: c.gatedMlp,
    positional: c.positional,
    parallelResidual: c.parallelResidual,
    tiedEmbeddings: c.tiedEmbeddings,
    parameters: paramCount(model),
    tokenizer: { vocabSize: model.tokenizer.vocabSize, bos: model.tokenizer.bosId, eos: model.tokenizer.eosId, pad: model.tokenizer.padId },
    hookPoints: model.hookNames(),
  };
}

export const inspectCommand: Command = {
  name: "inspect",
  summary: "Show a model's configuration, parameter count and hook point names",
  usage,
  async run(argv) {
    const { values } = parseFlags("inspect", argv, { model: { type: "string" }, "all-hooks": { type: "boolean" }, json: { type: "boolean" } });
    const model = await modelFromFlag("inspect", values.model);
    try {
      const d = describe(model, resolveModelDir(values.model));
      if (values.json) {
        console.log(JSON.stringify(d, null, 2));
        return;
      }
      const yes = (b: boolean) => (b ? "yes" : "no");
      const hooks = values["all-hooks"] ? d.hookPoints : foldHookNames(d.hookPoints);
      console.log(
        [
          `model         ${d.model}`,
          `architecture  ${d.modelType}: ${d.layers} layers, d_model ${d.dModel}, ${d.heads} heads (${d.kvHeads} kv), d_head ${d.dHead}, d_mlp ${d.dMlp}`,
          `vocabulary    ${d.vocab} (tokenizer ${d.tokenizer.vocabSize}; bos ${d.tokenizer.bos ?? "-"}, eos ${d.tokenizer.eos ?? "-"}, pad ${d.tokenizer.pad ?? "-"})`,
          `context       ${d.nCtx} positions, ${d.positional} positions`,
          `blocks        ${d.norm} (eps ${d.normEps < 1e-3 ? d.normEps.toExponential() : d.normEps}), ${d.gatedMlp ? "gated " : ""}${d.act} MLP, parallel residual ${yes(d.parallelResidual)}, tied embeddings ${yes(d.tiedEmbeddings)}`,
          `parameters    ${d.parameters.toLocaleString("en-US")} (${(d.parameters / 1e6).toFixed(1)} M)`,
          `hook points   ${d.hookPoints.length}`,
          ...hooks.map((h) => `  ${h}`),
        ].join("\n"),
      );
    } finally {
      model.dispose();
    }
  },
};
