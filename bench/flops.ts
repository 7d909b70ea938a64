/** FLOP references shared by the benchmarks: the jax-js matmul rate at a model's shapes, and forward FLOPs per token. */
import { numpy as np } from "@jax-js/jax";
import type { ModelConfig } from "../src/model/types.js";

/** GFLOP/s of a [2048 × d_model] by [d_model × d_mlp] matmul (the model's MLP shape). */
export function matmulGflops(c: ModelConfig): Promise<number> {
  return matmulGflopsAt(2048, c.dModel, c.dMlp);
}

/** GFLOP/s of an [m × k] by [k × n] matmul, read back after each call (median of 9 after 3 warm-ups). */
export async function matmulGflopsAt(m: number, k: number, n: number): Promise<number> {
  const a = np.ones([m, k]);
  const b = np.ones([k, n]);
  for (let i = 0; i < 3; i++) await np.matmul(a.ref, b.ref).data();
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t = performance.now();
    await np.matmul(a.ref, b.ref).data();
    times.push(performance.now() - t);
  }
  a.dispose();
  b.dispose();
  times.sort((x, y) => x - y);
  return (2 * m * k * n) / (times[4]! / 1000) / 1e9;
}

/** Forward FLOPs per token: 2 × (non-embedding matmul weights + unembedding) + attention over `ctx` keys. */
export function flopsPerToken(c: ModelConfig, ctx: number): number {
  const attnW = c.dModel * (c.nHeads + 2 * c.nKVHeads) * c.dHead + c.nHeads * c.dHead * c.dModel;
  const mlpW = c.dModel * c.dMlp * (c.gatedMlp ? 3 : 2);
  const attnScores = 2 * c.nHeads * c.dHead * ctx; // q·k and p·v
  return 2 * (c.nLayers * (attnW + mlpW) + c.dModel * c.vocabSize) + c.nLayers * attnScores * 2;
}
