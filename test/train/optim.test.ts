import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { adamwStep, initAdamW, adamwStateToHost, adamwStateFromHost } from "../../src/train/adamw.js";
import { clipGradNorm } from "../../src/train/clip.js";
import { learningRate } from "../../src/train/schedule.js";
import { disposeTree, readF32 } from "../../src/tensor/own.js";
import type { Params } from "../../src/model/types.js";

function close(actual: ArrayLike<number>, expected: number[], tol: number, label: string): void {
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

/*
 * Reference numbers from torch 1.13 (float64), this script:
 *   W = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True); b = torch.tensor([0.1, -0.2], requires_grad=True)
 *   opt = torch.optim.AdamW([{"params": [W], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
 *                           lr=0.01, betas=(0.9, 0.95), eps=1e-8)
 *   for gW, gb in [([[0.3, -0.6], [1.2, 0.05]], [0.4, -0.1]), ([[-0.2, 0.5], [0.7, -0.3]], [0.0, 0.2])]:
 *       W.grad = torch.tensor(gW); b.grad = torch.tensor(gb); opt.step(); print(W.tolist(), b.tolist())
 * The bias (1 dim) gets no weight decay, as the default decay rule says.
 */
const TORCH = [
  { W: [0.4895000003333333, -0.9890000001666667, 1.9880000000833333, 0.2397500019999996], b: [0.09000000025, -0.19000000099999992] },
  { W: [0.4875582554172119, -0.9876289126622378, 1.9764144398195882, 0.24567658024593725], b: [0.08321352302496698, -0.19363374027670308] },
];

test("AdamW: two steps equal torch.optim.AdamW (decoupled decay on matrices only), state round-trips", async () => {
  let params: Params = { W: np.array([[0.5, -1.0], [2.0, 0.25]]), b: np.array([0.1, -0.2]) };
  let state = initAdamW(params);
  const grads = [
    { W: [[0.3, -0.6], [1.2, 0.05]], b: [0.4, -0.1] },
    { W: [[-0.2, 0.5], [0.7, -0.3]], b: [0.0, 0.2] },
  ];
  const opts = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
  for (let s = 0; s < 2; s++) {
    if (s === 1) {
      // Serialise and restore the state between the steps: the second step must not notice.
      const host = await adamwStateToHost(state);
      disposeTree(state.m);
      disposeTree(state.v);
      state = adamwStateFromHost(host.t, host.tensors as never, ["W", "b"]);
    }
    const r = adamwStep(params, { W: np.array(grads[s]!.W), b: np.array(grads[s]!.b) }, state, 0.01, opts);
    params = r.params;
    state = r.state;
    close(await readF32(params.W!.ref), TORCH[s]!.W, 2e-7, `W after step ${s + 1}`);
    close(await readF32(params.b!.ref), TORCH[s]!.b, 2e-7, `b after step ${s + 1}`);
  }
  assert.equal(state.t, 2);
  disposeTree(params);
  disposeTree(state.m);
  disposeTree(state.v);
});

test("schedule: linear warmup then cosine to the floor (HF get_cosine_schedule_with_warmup + min ratio)", () => {
  const o = { peak: 1, warmupSteps: 10, totalSteps: 110, minLrRatio: 0.1 };
  // Hand-computed: warmup step/10; after it 0.1 + 0.9 · 0.5 · (1 + cos(π · (step − 10) / 100)).
  const cases: [number, number][] = [[0, 0], [5, 0.5], [10, 1], [35, 0.1 + 0.45 * (1 + Math.SQRT1_2)], [60, 0.55], [110, 0.1], [500, 0.1]];
  for (const [step, lr] of cases) assert.ok(Math.abs(learningRate(step, o) - lr) < 1e-12, `step ${step}: ${learningRate(step, o)} vs ${lr}`);
  assert.equal(learningRate(0, { ...o, warmupSteps: 0 }), 1);
});

test("clipGradNorm: global L2 norm over all tensors, scaled by max/(norm + 1e-6) only above the limit", async () => {
  const grads = () => ({ a: np.array([3, 4]), b: np.array([[12]]) }); // ‖·‖ = √(9 + 16 + 144) = 13
  const r = await clipGradNorm(grads(), 6.5);
  assert.ok(Math.abs(r.norm - 13) < 1e-5);
  const c = 6.5 / (13 + 1e-6);
  close(await readF32(r.grads.a!), [3 * c, 4 * c], 1e-6, "a");
  close(await readF32(r.grads.b!), [12 * c], 1e-6, "b");
  const u = await clipGradNorm(grads(), 20);
  close(await readF32(u.grads.a!), [3, 4], 0, "unclipped a");
  close(await readF32(u.grads.b!), [12], 0, "unclipped b");
});

test("JitAdamW: the compiled update gives the torch numbers too", async () => {
  const { JitAdamW } = await import("../../src/train/adamw.js");
  const opt = new JitAdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  let params: Params = { W: np.array([[0.5, -1.0], [2.0, 0.25]]), b: np.array([0.1, -0.2]) };
  let state = initAdamW(params);
  const grads = [
    { W: [[0.3, -0.6], [1.2, 0.05]], b: [0.4, -0.1] },
    { W: [[-0.2, 0.5], [0.7, -0.3]], b: [0.0, 0.2] },
  ];
  for (let s = 0; s < 2; s++) {
    const r = opt.step(params, { W: np.array(grads[s]!.W), b: np.array(grads[s]!.b) }, state, 0.01);
    params = r.params;
    state = r.state;
    close(await readF32(params.W!.ref), TORCH[s]!.W, 2e-7, `W after step ${s + 1}`);
    close(await readF32(params.b!.ref), TORCH[s]!.b, 2e-7, `b after step ${s + 1}`);
  }
  disposeTree(params);
  disposeTree(state.m);
  disposeTree(state.v);
  opt.dispose();
});
