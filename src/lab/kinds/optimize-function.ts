/**
 * The experiment kind that needs no model: evaluate or descend a known test function. It exists
 * so the whole engine (validation, stages, caching, resume, studies, pruning, failures, reports)
 * is tested end to end with exact expected values.
 *
 * Stages: prepare (pick the function and the starting point) → optimize (an iterative procedure
 * over `steps`, reporting intermediate values so pruners apply) → evaluate (final value, regret,
 * distance to each known minimum as per-case results).
 *
 * Procedures:
 * - `converge`: the reported value approaches f(x0, x1) from above, f + gap·(1 − t/steps), plus
 *   optional seeded noise on intermediate values; the final value is exactly f(x0, x1). Ranking by
 *   early values predicts final ranking, as in real training curves, and final values are checkable.
 * - `gradient-descent`: x ← x − lr·∇f for `steps` steps from (x0, x1); value_t = f(x_t).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { gaussian, makeRng } from "../../util/rng.js";
import { s, type Infer } from "../schema/schema.js";
import { testFunctionNames, testFunctions, type TestFunctionName } from "./test-functions.js";
import type { ExperimentKind } from "./types.js";

const interval = s.nullable(s.array(s.number(), { minItems: 2, maxItems: 2 }));

export const optimizeFunctionSchema = s.object({
  function: s.enum(testFunctionNames).default("branin").describeAs("the test function: quadratic, rosenbrock or branin"),
  x0: s.number().default(0).describeAs("first coordinate of the point (the starting point for gradient-descent)"),
  x1: s.number().default(0).describeAs("second coordinate of the point"),
  procedure: s.enum(["converge", "gradient-descent"] as const).default("converge"),
  steps: s.int({ min: 1, max: 1_000_000 }).default(20).describeAs("iterations; one intermediate value is reported per step"),
  learning_rate: s.number({ min: 0, exclusiveMin: true }).default(0.001).describeAs("step size for gradient-descent"),
  gap: s.number({ min: 0 }).default(10).describeAs("converge: how far above f the first intermediate value starts"),
  noise: s.number({ min: 0 }).default(0).describeAs("std of seeded Gaussian noise added to intermediate values"),
  fail_probability: s.number({ min: 0, max: 1 }).default(0).describeAs("chance (decided by the run seed) that the run fails mid-way"),
  fail_on: s.nullable(s.object({ x0: interval, x1: interval })).describeAs("fail when the point lies inside these intervals"),
  step_delay_ms: s.int({ min: 0 }).default(0).describeAs("sleep per step (to make runs long enough to interrupt); never changes results"),
});

export type OptimizeFunctionConfig = Infer<typeof optimizeFunctionSchema>;

function inside(box: OptimizeFunctionConfig["fail_on"], x0: number, x1: number): boolean {
  if (!box || (!box.x0 && !box.x1)) return false;
  const within = (iv: number[] | null, v: number) => !iv || (v >= iv[0]! && v <= iv[1]!);
  return within(box.x0, x0) && within(box.x1, x1);
}

interface Prepared {
  function: TestFunctionName;
  start: [number, number];
  start_value: number;
}

interface Optimized {
  point: [number, number];
  final_value: number;
  steps: number;
}

export const optimizeFunction: ExperimentKind<OptimizeFunctionConfig> = {
  name: "optimize-function",
  version: "1",
  description: "Evaluate or descend a known test function (quadratic, Rosenbrock, Branin); needs no model.",
  schema: optimizeFunctionSchema,
  objective: { metric: "value", direction: "minimize" },
  stages: [
    {
      name: "prepare",
      after: [],
      uses: (c) => ({ function: c.function, x0: c.x0, x1: c.x1 }),
      run: ({ config: c }): Prepared => ({
        function: c.function,
        start: [c.x0, c.x1],
        start_value: testFunctions[c.function].f(c.x0, c.x1),
      }),
    },
    {
      name: "optimize",
      after: ["prepare"],
      uses: (c) => ({
        procedure: c.procedure,
        steps: c.steps,
        learning_rate: c.procedure === "gradient-descent" ? c.learning_rate : undefined,
        gap: c.procedure === "converge" ? c.gap : undefined,
        noise: c.noise,
        fail_probability: c.fail_probability,
        fail_on: c.fail_on,
      }),
      run: async (ctx): Promise<Optimized> => {
        const c = ctx.config;
        const prepared = ctx.inputs.prepare as Prepared;
        const fn = testFunctions[prepared.function];
        const rng = makeRng(ctx.seed);
        // Decide any random failure up front from the seed, so it is reproducible and resumable.
        const failAt = rng() < c.fail_probability ? 1 + Math.floor(rng() * c.steps) : Infinity;
        let [x0, x1] = prepared.start;
        const exact = fn.f(x0, x1);
        for (let t = 1; t <= c.steps; t++) {
          if (c.step_delay_ms > 0) await sleep(c.step_delay_ms);
          if (inside(c.fail_on, x0, x1)) throw new Error(`point (${x0}, ${x1}) lies inside fail_on ${JSON.stringify(c.fail_on)}`);
          if (t === failAt) throw new Error(`simulated failure at step ${t} (fail_probability ${c.fail_probability})`);
          let value: number;
          if (c.procedure === "gradient-descent") {
            const [g0, g1] = fn.grad(x0, x1);
            x0 -= c.learning_rate * g0;
            x1 -= c.learning_rate * g1;
            value = fn.f(x0, x1);
            if (!Number.isFinite(value)) throw new Error(`gradient descent diverged at step ${t}; lower learning_rate (${c.learning_rate})`);
          } else {
            value = exact + c.gap * (1 - t / c.steps);
          }
          const reported = c.noise > 0 && t < c.steps ? value + c.noise * gaussian(rng) : value;
          ctx.report(t, reported);
          ctx.progress(t, c.steps);
        }
        return { point: [x0, x1], final_value: fn.f(x0, x1), steps: c.steps };
      },
    },
    {
      name: "evaluate",
      after: ["prepare", "optimize"],
      uses: () => ({}),
      run: (ctx) => {
        const prepared = ctx.inputs.prepare as Prepared;
        const opt = ctx.inputs.optimize as Optimized;
        const fn = testFunctions[prepared.function];
        const distances = fn.argmin.map(([a, b]) => Math.hypot(opt.point[0] - a, opt.point[1] - b));
        distances.forEach((d, i) => ctx.caseResult(`minimum-${i}`, { distance: d }));
        const summary = { value: opt.final_value, regret: opt.final_value - fn.minimum, distance_to_optimum: Math.min(...distances) };
        for (const [k, v] of Object.entries(summary)) ctx.metric(k, v);
        return summary;
      },
    },
  ],
};
