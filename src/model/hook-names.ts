/**
 * The hook points of a model, in execution order, following TransformerLens names.
 *
 * Which points exist depends on the config:
 * - hook_pos_embed only with learned positions (GPT-2).
 * - attn.hook_rot_q / hook_rot_k only with rotary positions (after rotation; hook_q/hook_k are before).
 * - hook_resid_mid only for sequential blocks. In a parallel-residual block (GPT-NeoX
 *   use_parallel_residual, GPT-J) attention and MLP both read resid_pre and there is no
 *   intermediate residual, so, as in TransformerLens, the point does not exist; hook_mlp_in is then
 *   the MLP's copy of resid_pre (replacing it changes only what the MLP reads).
 * - mlp.hook_pre_linear only for gated MLPs (hook_pre is then the gate's pre-activation).
 * - ln2.hook_normalized always: GPT-J has one ln_1 for both branches, and (like TransformerLens,
 *   which copies ln1 into ln2) its MLP branch applies ln_1's weights to hook_mlp_in.
 */
import type { ModelConfig } from "./types.js";

export function blockHookNames(config: ModelConfig, l: number): string[] {
  const b = `blocks.${l}.`;
  const names = [b + "hook_resid_pre", b + "ln1.hook_normalized", b + "attn.hook_q", b + "attn.hook_k", b + "attn.hook_v"];
  if (config.positional === "rotary") names.push(b + "attn.hook_rot_q", b + "attn.hook_rot_k");
  names.push(b + "attn.hook_attn_scores", b + "attn.hook_pattern", b + "attn.hook_z", b + "hook_attn_out");
  if (!config.parallelResidual) names.push(b + "hook_resid_mid");
  names.push(b + "hook_mlp_in", b + "ln2.hook_normalized", b + "mlp.hook_pre");
  if (config.gatedMlp) names.push(b + "mlp.hook_pre_linear");
  names.push(b + "mlp.hook_post", b + "hook_mlp_out", b + "hook_resid_post");
  return names;
}

export function hookNames(config: ModelConfig): string[] {
  const names = ["hook_embed"];
  if (config.positional === "learned") names.push("hook_pos_embed");
  for (let l = 0; l < config.nLayers; l++) names.push(...blockHookNames(config, l));
  names.push("ln_final.hook_normalized");
  return names;
}
