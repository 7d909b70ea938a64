/**
 * The batched value optimisation (compute-value.ts): several requests optimised together, in
 * passes that resume after the edited layer, give what each request's own optimisation gives.
 * (The three-request MEMIT batch is also pinned to kmeng01/memit's numbers in reference-fixtures.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { computeTargetVectors, type ValueResult } from "../../src/edit/compute-value.js";
import { contextTemplates } from "../../src/edit/context-templates.js";
import { memitDefaults } from "../../src/edit/hparams.js";
import { initEngine } from "../../src/tensor/engine.js";
import { FAST, REQUESTS, TINY, tinyModel } from "./tiny.js";

await initEngine();

const model = tinyModel();
const hp = { ...memitDefaults(model.config), ...FAST, vNumGradSteps: 12 };
const templates = (await contextTemplates(model, hp, 0, TINY)).flat();
const HOOK = "blocks.1.hook_resid_post";

function assertSame(got: ValueResult, want: ValueResult, label: string): void {
  assert.equal(got.steps, want.steps, `${label}: steps`);
  let diff = 0, norm = 0;
  for (let i = 0; i < want.target.length; i++) {
    diff = Math.max(diff, Math.abs(got.target[i]! - want.target[i]!));
    norm = Math.max(norm, Math.abs(want.target[i]!));
  }
  assert.ok(diff / norm < 1e-5, `${label}: target differs by ${(diff / norm).toExponential(2)} (relative max)`);
  assert.ok(Math.abs(got.loss - want.loss) < 1e-5 * Math.max(1, want.loss), `${label}: loss ${got.loss} vs ${want.loss}`);
  assert.ok(Math.abs(got.nll - want.nll) < 1e-5 * Math.max(1, want.nll), `${label}: nll ${got.nll} vs ${want.nll}`);
}

test("z* of several requests optimised together equals each optimised alone, each stopping on its own", async () => {
  // The subject at the prompt's end makes the first request easy: without the KL term (which acts
  // at the same position) it reaches the 5e-2 stopping loss early, the others run every step.
  const easy = { prompt: "The capital is {}", subject: "Hollo", targetNew: "Pell", targetTrue: "Zarn" };
  const requests = [easy, ...REQUESTS];
  const fast = { ...hp, vNumGradSteps: 20, vLr: 3, clampNormFactor: 10, klFactor: 0 };
  const alone: ValueResult[] = [];
  for (const r of requests) alone.push((await computeTargetVectors(model, [r], fast, templates, HOOK))[0]!);
  const steps = alone.map((r) => r.steps);
  assert.ok(steps[0]! < 20 && steps.slice(1).every((s) => s === 20), `the easy request stops early, the others do not (${steps})`);
  const seen = new Map<number, number>();
  const together = await computeTargetVectors(model, requests, fast, templates, HOOK, (i) => seen.set(i, (seen.get(i) ?? 0) + 1));
  together.forEach((r, i) => assertSame(r, alone[i]!, `request ${i}`));
  assert.deepEqual([...seen.entries()].sort(), steps.map((s, i) => [i, s]), "every evaluated step of every request is observed");
});

test("with the KL term and passes of a few rows (a request's rows spread over passes), the batch gives each request's own z*", async () => {
  const alone: ValueResult[] = [];
  for (const r of REQUESTS) alone.push((await computeTargetVectors(model, [r], hp, templates, HOOK))[0]!);
  const split = await computeTargetVectors(model, REQUESTS, hp, templates, HOOK, undefined, 3 * 12 * model.config.vocabSize);
  split.forEach((r, i) => assertSame(r, alone[i]!, `request ${i}`));
});

test("the pass resumed after the edited layer gives the hooked whole pass's z*", async () => {
  // blocks.1.hook_resid_post resumes at block 2; blocks.2.hook_resid_pre is the same point, run as a hook on the whole pass.
  const resumed = await computeTargetVectors(model, REQUESTS, hp, templates, HOOK);
  const hooked = await computeTargetVectors(model, REQUESTS, hp, templates, "blocks.2.hook_resid_pre");
  resumed.forEach((r, i) => assertSame(r, hooked[i]!, `request ${i}`));
});

test("resumed passes run each row from the subject's last token on, its prefix cached: a prefix-heavy template set gives the hooked whole pass's z*", async () => {
  // Long prefixes before the subject (as generated context templates have) and a subject that is
  // not at the prompt's start: most of every row is cached, and the ROME hook (mlp_out) resumes too.
  const long = ["{}", "one two three four five six seven . {}", "alpha beta . {}"];
  const requests = [{ ...REQUESTS[0]!, prompt: "They say {} was born in" }, REQUESTS[1]!];
  // Without the norm clamp and weight decay (which read ‖v₀‖, the value at the hook) both hook
  // pairs are the same function of δ: resid_post of block l is resid_pre of block l + 1, and δ on
  // block 0's MLP output reaches the stream exactly as δ on block 1's input.
  const free = { ...hp, klFactor: 0.5, vWeightDecay: 0, clampNormFactor: 1e6 };
  for (const [resumed, hooked] of [[HOOK, "blocks.2.hook_resid_pre"], ["blocks.0.hook_mlp_out", "blocks.1.hook_resid_pre"]] as const) {
    const a = await computeTargetVectors(model, requests, free, long, resumed);
    const b = await computeTargetVectors(model, requests, free, long, hooked);
    a.forEach((r, i) => {
      const delta = (x: typeof r) => ({ ...x, target: x.target.map((v, j) => v - x.init[j]!) });
      assertSame(delta(r), delta(b[i]!), `${resumed} request ${i}`);
    });
  }
});

test("past the host budget for cached prefixes, requests are optimised in groups with the same results", async () => {
  const seen = new Map<number, number>();
  const whole = await computeTargetVectors(model, REQUESTS, hp, templates, HOOK);
  const grouped = await computeTargetVectors(model, REQUESTS, hp, templates, HOOK, (i) => seen.set(i, (seen.get(i) ?? 0) + 1), undefined, 1);
  grouped.forEach((r, i) => assertSame(r, whole[i]!, `request ${i}`));
  assert.deepEqual([...seen.keys()].sort(), REQUESTS.map((_, i) => i), "observed steps carry each request's own index");
});
