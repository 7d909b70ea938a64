import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Hono } from "hono";
import { parseExperiment } from "../../src/lab/config.js";
import { startRun } from "../../src/lab/experiment.js";
import { testFunctions } from "../../src/lab/kinds/test-functions.js";
import { openStore, StoreError, type Store } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";
import { renderSvg } from "../../src/lab/report/charts.js";
import { parallelCoordinatesSpec } from "../../src/web/ui/views/store.js";
import { openStoreReadOnly, storeRoutes, type ApiError, type CasePage, type RunDetail, type RunSummary, type StudyDetail, type StudySummary } from "../../src/web/store-api.js";

const STUDY = "branin-search";
const RUN = "solo/1"; // a slash, as in trial runs' ids ("STUDY/trial-N"): routes must take it encoded
const space = { x0: { type: "float", low: -5, high: 10 }, x1: { type: "float", low: 0, high: 15 } };

let tmp: string;
let store: Store;
let app: Hono;

/** Fill a store the way the CLI does (a TPE study of six trials and a standalone run), then reopen it read-only. */
before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "scalpel-store-api-"));
  const writable = openStore(tmp);
  await runStudy(
    writable,
    parseExperiment({ kind: "optimize-function", name: STUDY, seed: 3, config: { function: "branin", steps: 5 }, study: { space, n_trials: 6, sampler: { type: "tpe", n_startup_trials: 3 } } }),
  );
  await startRun(writable, parseExperiment({ kind: "optimize-function", name: "solo", seed: 5, config: { function: "branin", x0: 2, x1: 3, steps: 4 } }), {}, RUN);
  writable.close();
  store = openStoreReadOnly(tmp);
  app = storeRoutes(store);
});

after(() => {
  store.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function getJson<T>(url: string, status = 200): Promise<T> {
  const res = await app.request(url);
  assert.equal(res.status, status, `${url}: ${res.status}`);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  return (await res.json()) as T;
}

async function assertError(url: string, status: 400 | 404, pattern: RegExp): Promise<void> {
  const body = await getJson<ApiError>(url, status);
  assert.match(body.error, pattern);
  assert.ok(body.fix && body.fix.length > 0, `${url}: a fix`);
  assert.doesNotMatch(body.error, /Fix:/, "the fix travels in its own field");
}

test("GET /studies lists the study with its trial counts and best value", async () => {
  const { studies } = await getJson<{ studies: StudySummary[] }>("/studies");
  assert.equal(studies.length, 1);
  const s = studies[0]!;
  assert.deepEqual([s.name, s.kind, s.mode, s.metric, s.direction, s.status, s.n_trials], [STUDY, "optimize-function", "study", "value", "minimize", "done", 6]);
  assert.deepEqual(s.counts, { complete: 6, pruned: 0, fail: 0, running: 0 });
  const { trials } = await getJson<StudyDetail>(`/studies/${STUDY}`);
  assert.equal(s.best, Math.min(...trials.map((t) => t.value!)));
  assert.ok(s.created_at && s.ended_at);
});

test("GET /studies/:name gives the spec, config and every trial with params, intermediate values and run", async () => {
  const d = await getJson<StudyDetail>(`/studies/${STUDY}`);
  assert.equal(d.study.name, STUDY);
  assert.equal(d.study.seed, 3);
  assert.equal(d.spec.nTrials, 6);
  assert.equal(d.spec.sampler.type, "tpe");
  assert.deepEqual(Object.keys(d.spec.space).sort(), ["x0", "x1"]);
  assert.equal((d.config as { function: string }).function, "branin");
  assert.equal((d.manifest as { seed: number }).seed, 3);
  assert.deepEqual(d.trials.map((t) => t.number), [0, 1, 2, 3, 4, 5]);
  for (const t of d.trials) {
    assert.equal(t.state, "complete");
    assert.equal(t.run_id, `${STUDY}/trial-${t.number}`);
    const { x0, x1 } = t.params as { x0: number; x1: number };
    assert.ok(x0 >= -5 && x0 <= 10 && x1 >= 0 && x1 <= 15);
    assert.equal(t.value, testFunctions.branin.f(x0, x1));
    assert.deepEqual(t.intermediate.map(([step]) => step), [1, 2, 3, 4, 5]);
    assert.equal(t.intermediate.at(-1)![1], t.value, "the last intermediate value is the final one");
  }
});

test("the store view's parallel-coordinates plot draws one line per complete trial from GET /studies/:name", async () => {
  const d = await getJson<StudyDetail>(`/studies/${STUDY}`);
  const svg = await renderSvg(parallelCoordinatesSpec(d.trials, d.spec.space, d.study.metric, d.study.direction));
  assert.equal((svg.match(/aria-roledescription="line mark"/g) ?? []).length, 6);
  assert.equal((svg.match(/aria-roledescription="rule mark"/g) ?? []).length, 2, "one axis per parameter");
  for (const t of d.trials) assert.ok(svg.includes(`trial: ${t.number}"`), `trial ${t.number} drawn`);
});

test("GET /runs lists trial runs and standalone runs with their summary metrics; limit and standalone filter", async () => {
  const { runs } = await getJson<{ runs: RunSummary[] }>("/runs");
  assert.equal(runs.length, 7);
  const solo = runs.find((r) => r.id === RUN)!;
  assert.deepEqual([solo.name, solo.kind, solo.status, solo.seed, solo.study, solo.trial_number], ["solo", "optimize-function", "done", 5, null, null]);
  assert.equal(solo.metrics.value, testFunctions.branin.f(2, 3));
  const trial = runs.find((r) => r.id === `${STUDY}/trial-2`)!;
  assert.deepEqual([trial.study, trial.trial_number], [STUDY, 2]);
  assert.equal((await getJson<{ runs: RunSummary[] }>("/runs?limit=2")).runs.length, 2);
  assert.deepEqual((await getJson<{ runs: RunSummary[] }>("/runs?standalone=true")).runs.map((r) => r.id), [RUN]);
});

test("GET /runs/:id gives config, manifest, stages, summary metrics and series (ids with a slash, encoded)", async () => {
  const d = await getJson<RunDetail>(`/runs/${encodeURIComponent(RUN)}`);
  assert.equal(d.run.id, RUN);
  assert.deepEqual([(d.config as { x0: number }).x0, (d.manifest as { seed: number }).seed], [2, 5]);
  assert.deepEqual(d.stages.map((s) => [s.name, s.status, s.cached]), [["prepare", "done", false], ["optimize", "done", false], ["evaluate", "done", false]]);
  assert.equal(d.metrics.value, testFunctions.branin.f(2, 3));
  assert.deepEqual(d.series.map((p) => [p.stage, p.name, p.step]), [1, 2, 3, 4].map((s) => ["optimize", "value", s]));
  assert.equal(d.case_count, testFunctions.branin.argmin.length);
  const trialRun = await getJson<RunDetail>(`/runs/${encodeURIComponent(`${STUDY}/trial-0`)}`);
  assert.deepEqual([trialRun.run.study, trialRun.run.trial_number], [STUDY, 0]);
});

test("GET /runs/:id/cases pages through the per-case results with the total", async () => {
  const url = `/runs/${encodeURIComponent(RUN)}/cases`;
  const all = await getJson<CasePage>(url);
  assert.deepEqual([all.total, all.offset, all.limit], [3, 0, 100]);
  assert.deepEqual(all.cases.map((c) => [c.stage, c.case_id]), [["evaluate", "minimum-0"], ["evaluate", "minimum-1"], ["evaluate", "minimum-2"]]);
  const [a, b] = testFunctions.branin.argmin[1]!;
  assert.equal(all.cases[1]!.metrics.distance, Math.hypot(2 - a, 3 - b));
  const page = await getJson<CasePage>(`${url}?offset=1&limit=1`);
  assert.deepEqual([page.total, page.offset, page.limit, page.cases.map((c) => c.case_id)], [3, 1, 1, ["minimum-1"]]);
  assert.deepEqual((await getJson<CasePage>(`${url}?offset=10`)).cases, []);
});

test("GET /report/:target renders the study's and the run's HTML report without writing files", async () => {
  for (const target of [STUDY, RUN]) {
    const res = await app.request(`/report/${encodeURIComponent(target)}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const html = await res.text();
    assert.match(html, /^<!doctype html>/);
    assert.ok(html.includes(target), `report names ${target}`);
    assert.match(html, /<svg/);
  }
  assert.ok(!existsSync(path.join(tmp, "reports")), "no report folder written");
});

test("unknown studies, runs and report targets are 404 with {error, fix}", async () => {
  await assertError("/studies/branin-serch", 404, /no study named 'branin-serch'.*did you mean 'branin-search'/);
  await assertError("/runs/nope", 404, /no run named 'nope'/);
  await assertError("/runs/nope/cases", 404, /no run named 'nope'/);
  await assertError("/report/nope", 404, /no run or study named 'nope'/);
  await assertError("/nowhere", 404, /no such route/);
});

test("bad query values are 400 with {error, fix}", async () => {
  for (const q of ["limit=0", "limit=abc", "limit=-1", "limit=1.5", "limit=10001", "standalone=maybe"]) await assertError(`/runs?${q}`, 400, /query parameter/);
  const cases = `/runs/${encodeURIComponent(RUN)}/cases`;
  for (const q of ["offset=-1", "offset=x", "limit=0", "limit=1001"]) await assertError(`${cases}?${q}`, 400, /query parameter/);
});

test("the API cannot write: the handle is readonly, writes fail, other methods are refused", async () => {
  assert.equal(store.db.readonly, true);
  assert.throws(() => store.db.exec("CREATE TABLE x (a)"), /readonly/);
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const res = await app.request("/studies", { method });
    assert.equal(res.status, 404, method);
  }
  const { n } = store.db.prepare("SELECT total_changes() AS n").get() as { n: number };
  assert.equal(n, 0, "no row changed through this connection");
});

test("opening a missing store gives a typed error naming the folder and creates nothing", () => {
  const missing = path.join(tmp, "no-such-store");
  assert.throws(
    () => openStoreReadOnly(missing),
    (e: unknown) => e instanceof StoreError && e.code === "STORE_MISSING" && e.message.includes(missing) && /--store DIR/.test(e.fix ?? ""),
  );
  assert.ok(!existsSync(missing), "the folder is not created");

  const empty = path.join(tmp, "empty-folder");
  mkdirSync(empty);
  assert.throws(() => openStoreReadOnly(empty), (e: unknown) => e instanceof StoreError && e.code === "STORE_MISSING");
  assert.deepEqual(readdirSync(empty), [], "no database is created in an existing folder");
});

test("a store of another schema version is refused, not migrated", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-store-api-v-"));
  const w = openStore(dir);
  w.db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
  w.close();
  assert.throws(() => openStoreReadOnly(dir), (e: unknown) => e instanceof StoreError && e.code === "STORE_VERSION" && /upgrade scalpel/.test(e.fix ?? ""));
  rmSync(dir, { recursive: true, force: true });
});

test("the API sees what a runner commits while the lab is serving the store", async () => {
  const writer = openStore(tmp);
  try {
    await startRun(writer, parseExperiment({ kind: "optimize-function", name: "late", seed: 1, config: { steps: 1 } }), {}, "late/1");
    const { runs } = await getJson<{ runs: RunSummary[] }>("/runs?standalone=true");
    assert.ok(runs.some((r) => r.id === "late/1" && r.status === "done"));
  } finally {
    writer.close();
  }
});
