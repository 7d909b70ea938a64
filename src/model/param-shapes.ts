/**
 * The normalised parameters a config implies (names and shapes, model/types.ts), used to validate
 * loaded checkpoints, to draw random parameters and to count parameters.
 */
import type { ModelConfig } from "./types.js";

export type ParamKind = "weight" | "bias" | "norm";

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
}

export interface BiasFlags {
  qkv: boolean;
  o: boolean;
  mlp: boolean;
  unembed: boolean;
}

/** config.biases with its defaults filled in (see ModelConfig.biases). */
export function biasFlags(config: ModelConfig): BiasFlags {
  const b = config.biases ?? {};
  const layer = config.norm === "layernorm";
  return { qkv: b.qkv ?? layer, o: b.o ?? layer, mlp: b.mlp ?? layer, unembed: b.unembed ?? false };
}

export function paramSpecs(config: ModelConfig): ParamSpec[] {
  const { dModel: d, nHeads, nKVHeads, dHead, dMlp, vocabSize } = config;
  const flags = biasFlags(config);
  const specs: ParamSpec[] = [{ name: "embed.W_E", shape: [vocabSize, d], kind: "weight" }];
  if (config.positional === "learned") specs.push({ name: "pos_embed.W_pos", shape: [config.nCtx, d], kind: "weight" });
  const norm = (name: string) => {
    specs.push({ name: `${name}.w`, shape: [d], kind: "norm" });
    if (config.norm === "layernorm") specs.push({ name: `${name}.b`, shape: [d], kind: "bias" });
  };
  for (let l = 0; l < config.nLayers; l++) {
    const b = `blocks.${l}.`;
    norm(b + "ln1");
    if (!config.sharedBlockNorm) norm(b + "ln2");
    if (config.postNorms) {
      specs.push({ name: b + "ln1_post.w", shape: [d], kind: "norm" }, { name: b + "ln2_post.w", shape: [d], kind: "norm" });
    }
    const q = nHeads * dHead;
    const kv = nKVHeads * dHead;
    specs.push({ name: b + "attn.W_Q", shape: [d, q], kind: "weight" });
    if (flags.qkv) specs.push({ name: b + "attn.b_Q", shape: [q], kind: "bias" });
    specs.push({ name: b + "attn.W_K", shape: [d, kv], kind: "weight" });
    if (flags.qkv) specs.push({ name: b + "attn.b_K", shape: [kv], kind: "bias" });
    specs.push({ name: b + "attn.W_V", shape: [d, kv], kind: "weight" });
    if (flags.qkv) specs.push({ name: b + "attn.b_V", shape: [kv], kind: "bias" });
    specs.push({ name: b + "attn.W_O", shape: [q, d], kind: "weight" });
    if (flags.o) specs.push({ name: b + "attn.b_O", shape: [d], kind: "bias" });
    if (config.gatedMlp) {
      specs.push({ name: b + "mlp.W_gate", shape: [d, dMlp], kind: "weight" });
      if (flags.mlp) specs.push({ name: b + "mlp.b_gate", shape: [dMlp], kind: "bias" });
    }
    specs.push({ name: b + "mlp.W_in", shape: [d, dMlp], kind: "weight" });
    if (flags.mlp) specs.push({ name: b + "mlp.b_in", shape: [dMlp], kind: "bias" });
    specs.push({ name: b + "mlp.W_out", shape: [dMlp, d], kind: "weight" });
    if (flags.mlp) specs.push({ name: b + "mlp.b_out", shape: [d], kind: "bias" });
  }
  norm("ln_final");
  if (!config.tiedEmbeddings) specs.push({ name: "unembed.W_U", shape: [d, vocabSize], kind: "weight" });
  if (flags.unembed) specs.push({ name: "unembed.b_U", shape: [vocabSize], kind: "bias" });
  return specs;
}
