import { test } from "node:test";
import assert from "node:assert/strict";
import { fieldAt, s, validate } from "../../src/lab/schema/schema.js";

const optimizer = s.object({
  learning_rate: s.number({ min: 0, exclusiveMin: true }).default(0.01),
  method: s.enum(["temporal", "hallucination"] as const).default("temporal"),
  layers: s.array(s.int({ min: 0 }), { minItems: 1 }).default([0]),
});
const schema = s.object({ optimizer, name: s.string(), tag: s.nullable(s.string()) });

test("unknown keys name the path and the closest valid key", () => {
  const r = validate(schema, { name: "x", optimizer: { learnig_rate: 0.1 } });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(
    r.issues.map((i) => i.message),
    ["unknown key 'learnig_rate' at optimizer.learnig_rate — did you mean 'learning_rate'?"],
  );
  assert.equal(r.issues[0]!.path, "optimizer.learnig_rate");
});

test("misspelled enum values list the choices and suggest the closest", () => {
  const r = validate(s.object({ method: s.enum(["temporal", "hallucination"] as const) }), { method: "Temporal" });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.issues[0]!.message, "method: 'Temporal' is not one of temporal, hallucination — did you mean 'temporal'?");
});

test("every problem is reported at once, not only the first", () => {
  const r = validate(schema, { optimizer: { learning_rate: -1, method: "temporl", layers: [1, 2.5] }, extra: 1 });
  assert.equal(r.ok, false);
  if (r.ok) return;
  const paths = r.issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ["extra", "name", "optimizer.layers.1", "optimizer.learning_rate", "optimizer.method"]);
});

test("defaults are filled in, nested objects included, and not shared between results", () => {
  const a = validate(schema, { name: "a" });
  const b = validate(schema, { name: "b" });
  assert.ok(a.ok && b.ok);
  if (!a.ok || !b.ok) return;
  assert.deepEqual(a.value, { name: "a", tag: null, optimizer: { learning_rate: 0.01, method: "temporal", layers: [0] } });
  a.value.optimizer.layers.push(7);
  assert.deepEqual(b.value.optimizer.layers, [0]);
});

test("numbers check type, integrality and range", () => {
  assert.equal(validate(s.int({ min: 1 }), 0).ok, false);
  assert.equal(validate(s.int(), 1.5).ok, false);
  assert.equal(validate(s.number(), "3").ok, false);
  assert.equal(validate(s.number(), Number.NaN).ok, false);
  assert.deepEqual(validate(s.number({ min: 0, max: 1 }), 1), { ok: true, value: 1 });
});

test("tagged unions accept a bare type name and validate each variant's options", () => {
  const sampler = s.tagged({ tpe: s.object({ n_startup_trials: s.int({ min: 0 }).default(10) }), random: s.object({}) });
  assert.deepEqual(validate(sampler, "tpe"), { ok: true, value: { type: "tpe", n_startup_trials: 10 } });
  const bad = validate(sampler, { type: "tpe", n_startup: 3 });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.issues[0]!.message, /did you mean 'n_startup_trials'/);
  const typo = validate(sampler, "randon");
  if (!typo.ok) assert.match(typo.issues[0]!.message, /did you mean 'random'/);
  else assert.fail("'randon' must not validate");
});

test("fieldAt resolves dotted paths and suggests the closest key when one is missing", () => {
  assert.ok(fieldAt(schema, "optimizer.learning_rate").field);
  assert.ok(fieldAt(schema, "optimizer.layers.0").field);
  assert.deepEqual(fieldAt(schema, "optimizer.learnin_rate"), { missing: "learnin_rate", suggestion: "learning_rate" });
});
