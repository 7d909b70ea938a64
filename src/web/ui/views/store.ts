/**
 * The store tab: the studies and runs of the served results store (read through /api/store), and
 * one of them in detail. A study shows its config, trial table, history and parallel-coordinates
 * plots and its full report (in a sandboxed frame); a run shows its config, stages, metrics,
 * series and its per-case results a page at a time.
 *
 * Plots use the report's own Vega-Lite charts (lab/report/charts.ts), imported on first use so
 * vega and vega-lite load only when this tab draws something.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Distribution, ParamValue } from "../../../analysis/search/types.js";
import type { ApiError, CasePage, RunDetail, RunSummary, StudyDetail, StudySummary, TrialInfo } from "../../store-api.js";
import { busy, h, replace } from "../dom.js";
import type { LabView } from "../view.js";

type Charts = typeof import("../../../lab/report/charts.js");

const API = "/api/store";
const CASES_PER_PAGE = 50;
/** The newest runs listed; older ones are still reachable by id through the API. */
const RUN_LIST_LIMIT = 500;

export const storeView: LabView = {
  id: "store",
  title: "Store",
  needsModel: false,
  async mount(root, session) {
    if (!session.info.store) {
      replace(root, h("p", { class: "note" }, "No results store is served. Start the lab with --store DIR (the folder 'scalpel run' writes, ./.scalpel by default)."));
      return;
    }
    const status = h("div", { class: "status" });
    const lists = h("div", { class: "store-lists" });
    const detail = h("section", { id: "store-detail" }, h("p", { class: "note" }, "Pick a study or a run."));
    replace(root, h("div", { class: "store-view" }, status, lists, detail));
    const show = detailPanel(detail, status);
    await busy(null, status, "Reading the store…", async () => {
      const [{ studies }, runs] = await Promise.all([getJson<{ studies: StudySummary[] }>("/studies"), runList(show.run)]);
      replace(lists, h("h2", {}, "Studies"), studyTable(studies, show.study), runs);
    });
  },
};

// ---- Fetching ----

async function getJson<T>(route: string): Promise<T> {
  const res = await fetch(API + route);
  const body = (await res.json()) as T | ApiError;
  if (!res.ok) {
    const e = body as ApiError;
    throw new Error(e.fix ? `${e.error}. ${e.fix}` : e.error);
  }
  return body as T;
}

const enc = encodeURIComponent;

// ---- Lists ----

function studyTable(studies: readonly StudySummary[], open: (name: string) => void): HTMLElement {
  if (!studies.length) return h("p", { class: "note" }, "No studies in this store.");
  return table(
    ["Study", "Kind", "Mode", "Objective", "Trials", "Best", "Status", "Created"],
    studies.map((s) =>
      selectableRow({ "data-study": s.name }, () => open(s.name), [
        h("button", { class: "link" }, s.name),
        s.kind,
        s.mode,
        `${s.metric} (${s.direction})`,
        trialCounts(s),
        fmt(s.best),
        s.status,
        s.created_at,
      ]),
    ),
  );
}

function trialCounts(s: StudySummary): string {
  const { complete, pruned, fail, running } = s.counts;
  const extra = [pruned && `${pruned} pruned`, fail && `${fail} failed`, running && `${running} running`].filter(Boolean).join(", ");
  return `${complete}/${s.n_trials}${extra ? ` (${extra})` : ""}`;
}

/** The runs table, with a switch to include the runs of study trials (many, once a study is big). */
async function runList(open: (id: string) => void): Promise<HTMLElement> {
  const box = h("div", { class: "store-runs" });
  const render = async (withTrials: boolean) => {
    const { runs } = await getJson<{ runs: RunSummary[] }>(`/runs?limit=${RUN_LIST_LIMIT}&standalone=${!withTrials}`);
    const toggle = h("input", { type: "checkbox", checked: withTrials, onchange: () => void render(toggle.checked) });
    replace(box, h("h2", {}, "Runs"), h("label", {}, toggle, " include the runs of study trials"), runTable(runs, open));
  };
  await render(false);
  return box;
}

function runTable(runs: readonly RunSummary[], open: (id: string) => void): HTMLElement {
  if (!runs.length) return h("p", { class: "note" }, "No runs.");
  return table(
    ["Run", "Kind", "Status", "Seed", "Study", "Started", "Metrics"],
    runs.map((r) =>
      selectableRow({ "data-run": r.id }, () => open(r.id), [
        h("button", { class: "link" }, r.id),
        r.kind,
        r.status,
        r.seed,
        r.study === null ? "" : `${r.study} #${r.trial_number}`,
        r.started_at,
        metricList(r.metrics),
      ]),
    ),
  );
}

const metricList = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(", ");

// ---- Detail panel ----

/**
 * What fills #store-detail. Each click starts a fetch; a response that arrives after a later
 * click is dropped, so the panel always shows the last item picked.
 */
function detailPanel(detail: HTMLElement, status: HTMLElement) {
  let latest = 0;
  const open = (label: string, build: () => Promise<Node[]>) => {
    const ticket = ++latest;
    void busy(null, status, label, async () => {
      const nodes = await build();
      if (ticket === latest) replace(detail, ...nodes);
    });
  };
  const run = (id: string) => open(`Reading run ${id}…`, async () => runDetail(await getJson<RunDetail>(`/runs/${enc(id)}`)));
  const study = (name: string) => open(`Reading study ${name}…`, async () => studyDetail(await getJson<StudyDetail>(`/studies/${enc(name)}`), run));
  return { study, run };
}

function studyDetail(d: StudyDetail, openRun: (id: string) => void): Node[] {
  const s = d.study;
  const objective = s.metric;
  const history = h("div", { "data-plot": "tpe-history", class: "plot" });
  const parallel = h("div", { "data-plot": "parallel-coordinates", class: "plot" });
  void plot(history, (c) => c.historySpec(reportTrials(d.trials), s.direction, objective));
  void plot(parallel, () => parallelCoordinatesSpec(d.trials, d.spec.space, objective, s.direction));
  return [
    h("h2", {}, `${s.mode === "sweep" ? "Sweep" : "Study"} ${s.name}`),
    h("p", {}, `${s.kind}, ${s.status}; ${objective} (${s.direction}), best ${fmt(s.best)}; trials ${trialCounts(s)}; sampler ${d.spec.sampler.type}, pruner ${d.spec.pruner.type}; seed ${s.seed}`),
    jsonBlock("Config", { config: d.config, study: d.spec }),
    jsonBlock("Manifest", d.manifest),
    h("h3", {}, "History"),
    history,
    h("h3", {}, "Parameters"),
    parallel,
    h("h3", {}, `Trials (${d.trials.length})`),
    trialTable(d.trials, openRun),
    h("h3", {}, "Report"),
    // Sandboxed without scripts (the report is static HTML + SVG; its own CSP forbids scripts too).
    // allow-same-origin: an opaque-origin frame would be blocked by the page's COEP/CORP headers.
    h("iframe", { sandbox: "allow-same-origin", src: `${API}/report/${enc(s.name)}`, title: `Report of ${s.name}`, class: "store-report", style: "width:100%;height:80vh;border:1px solid #ddd" }),
  ];
}

function trialTable(trials: readonly TrialInfo[], openRun: (id: string) => void): HTMLElement {
  const params = paramNames(trials);
  return table(
    ["Trial", "State", "Value", ...params, "Steps", "Run"],
    trials.map((t) =>
      h(
        "tr",
        { "data-trial": t.number, title: t.error ?? undefined },
        ...[t.number, t.state, fmt(t.value), ...params.map((p) => showParam(t.params[p])), t.intermediate.length, h("button", { class: "link", onclick: () => openRun(t.run_id) }, t.run_id)].map((c) =>
          h("td", {}, c),
        ),
      ),
    ),
  );
}

function runDetail(d: RunDetail): Node[] {
  const r = d.run;
  const seriesNames = [...new Set(d.series.map((p) => p.name))];
  const series = seriesNames.map((name) => {
    const box = h("div", { "data-plot": "metric-series", class: "plot" });
    void plot(box, (c) => c.curvesSpec(d.series.map((p) => ({ metric: p.name, step: p.step, value: p.value, group: p.stage })), name));
    return box;
  });
  return [
    h("h2", {}, `Run ${r.id}`),
    h("p", {}, `${r.kind}, ${r.status}; seed ${r.seed}${r.study === null ? "" : `; trial ${r.trial_number} of study ${r.study}`}; started ${r.started_at}${r.ended_at ? `, ended ${r.ended_at}` : ""}`),
    ...(r.error ? [h("p", { class: "status error" }, r.error)] : []),
    jsonBlock("Config", d.config),
    jsonBlock("Manifest", d.manifest),
    h("h3", {}, "Stages"),
    table(
      ["Stage", "Status", "Reused", "Artifact", "Started", "Ended", "Error"],
      d.stages.map((st) => h("tr", {}, ...[st.name, st.status, st.cached ? "yes" : "no", st.artifact ?? "", st.started_at ?? "", st.ended_at ?? "", st.error ?? ""].map((c) => h("td", {}, c)))),
    ),
    h("h3", {}, "Summary metrics"),
    Object.keys(d.metrics).length
      ? table(["Metric", "Value"], Object.entries(d.metrics).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, fmt(v)))))
      : h("p", { class: "note" }, "None."),
    ...(series.length ? [h("h3", {}, "Metric series"), ...series] : []),
    h("h3", {}, `Per-case results (${d.case_count})`),
    d.case_count ? casePager(r.id) : h("p", { class: "note" }, "None."),
  ];
}

/** The per-case table, CASES_PER_PAGE rows at a time. */
function casePager(runId: string): HTMLElement {
  const status = h("div", { class: "status" });
  const body = h("div", {});
  const show = (offset: number) =>
    busy(null, status, "Reading cases…", async () => {
      const page = await getJson<CasePage>(`/runs/${enc(runId)}/cases?offset=${offset}&limit=${CASES_PER_PAGE}`);
      const metrics = [...new Set(page.cases.flatMap((c) => Object.keys(c.metrics)))].sort();
      const last = offset + page.cases.length;
      replace(
        body,
        h(
          "div",
          { class: "pager" },
          h("button", { disabled: offset === 0, onclick: () => void show(Math.max(0, offset - CASES_PER_PAGE)) }, "← previous"),
          ` cases ${page.cases.length ? offset + 1 : 0}–${last} of ${page.total} `,
          h("button", { disabled: last >= page.total, onclick: () => void show(last) }, "next →"),
        ),
        table(
          ["Case", "Stage", ...metrics],
          page.cases.map((c) => h("tr", { "data-case": c.case_id }, ...[c.case_id, c.stage, ...metrics.map((m) => fmt(c.metrics[m]))].map((x) => h("td", {}, x)))),
        ),
      );
    });
  void show(0);
  return h("div", { class: "store-cases" }, body, status);
}

// ---- Plots ----

/** Render a chart into `box` once the charts module (vega, vega-lite) has loaded; a failure is shown in place. */
async function plot(box: HTMLElement, spec: (charts: Charts) => TopLevelSpec): Promise<void> {
  box.textContent = "drawing…";
  try {
    const charts = await import("../../../lab/report/charts.js");
    // The SVG is vega's own output (text and attributes escaped by its renderer), not page input.
    box.innerHTML = await charts.renderSvg(spec(charts));
  } catch (e) {
    box.className = "plot status error";
    box.textContent = `cannot draw this plot: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** The API's trials in the shape the report's charts take. */
function reportTrials(trials: readonly TrialInfo[]) {
  return trials.map((t) => ({ number: t.number, state: t.state, params: t.params, intermediate: t.intermediate, ...(t.value === null ? {} : { value: t.value }) }));
}

/** Parameter names over all trials, without the replicate seed (no parameter of interest). */
function paramNames(trials: readonly TrialInfo[]): string[] {
  return [...new Set(trials.flatMap((t) => Object.keys(t.params)))].filter((p) => p !== "seed").sort();
}

/**
 * One line per complete trial across one vertical axis per parameter, coloured by the objective
 * (the best values brightest, whichever the direction). Each axis spans the values tried, on a log
 * scale where the search space says so; categorical values sit evenly, in sorted order.
 */
export function parallelCoordinatesSpec(trials: readonly TrialInfo[], space: Record<string, Distribution>, objective: string, direction: "minimize" | "maximize"): TopLevelSpec {
  const done = trials.filter((t) => t.state === "complete" && t.value !== null && Number.isFinite(t.value));
  const params = paramNames(done);
  const lines: { trial: number; param: string; pos: number; label: string; value: number }[] = [];
  const ticks: { param: string; pos: number; label: string }[] = [];
  for (const p of params) {
    const axis = paramAxis(done.flatMap((t) => (t.params[p] === undefined ? [] : [t.params[p]!])), space[p]);
    for (const t of done) if (t.params[p] !== undefined) lines.push({ trial: t.number, param: p, pos: axis.pos(t.params[p]!), label: showParam(t.params[p]), value: t.value! });
    for (const tick of axis.ticks) ticks.push({ param: p, ...tick });
  }
  const x = { field: "param", type: "nominal", sort: params, title: null, axis: { labelAngle: 0, domain: false, ticks: false } };
  const y = { field: "pos", type: "quantitative", scale: { domain: [0, 1] }, axis: null };
  return {
    title: `Parameters of ${done.length} complete trials, coloured by ${objective} (${direction})`,
    width: Math.max(240, 140 * params.length),
    height: 260,
    config: { view: { stroke: null } },
    layer: [
      { data: { values: params.map((param) => ({ param })) }, mark: { type: "rule", color: "#bbb" }, encoding: { x } },
      {
        data: { values: lines },
        mark: { type: "line", opacity: 0.8, strokeWidth: 1.5 },
        encoding: {
          x,
          y,
          detail: { field: "trial", type: "nominal" },
          color: { field: "value", type: "quantitative", title: objective, scale: { scheme: "viridis", reverse: direction === "minimize" } },
          tooltip: [
            { field: "trial", type: "nominal" },
            { field: "param", type: "nominal" },
            { field: "label", type: "nominal", title: "value" },
            { field: "value", type: "quantitative", title: objective },
          ],
        },
      },
      { data: { values: ticks }, mark: { type: "text", align: "left", dx: 4, fontSize: 10, color: "#444" }, encoding: { x, y, text: { field: "label" } } },
    ],
  } as TopLevelSpec;
}

/** A parameter's values placed on [0, 1], with labelled ticks (range ends, or every category). */
function paramAxis(values: readonly ParamValue[], dist: Distribution | undefined): { pos: (v: ParamValue) => number; ticks: { pos: number; label: string }[] } {
  if (values.every((v) => typeof v === "number")) {
    const log = dist !== undefined && dist.kind !== "categorical" && dist.log === true && values.every((v) => (v as number) > 0);
    const f = (v: ParamValue) => (log ? Math.log(v as number) : (v as number));
    const nums = values as number[];
    const [lo, hi] = [Math.min(...nums), Math.max(...nums)];
    const pos = (v: ParamValue) => (lo === hi ? 0.5 : (f(v) - f(lo)) / (f(hi) - f(lo)));
    return { pos, ticks: lo === hi ? [{ pos: 0.5, label: fmt(lo) }] : [{ pos: 0, label: fmt(lo) }, { pos: 1, label: fmt(hi) }] };
  }
  const cats = [...new Set(values.map(String))].sort();
  const pos = (v: ParamValue) => (cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1));
  return { pos, ticks: cats.map((c) => ({ pos: pos(c), label: c })) };
}

// ---- Small pieces ----

function table(header: readonly string[], rows: readonly HTMLTableRowElement[]): HTMLTableElement {
  return h("table", {}, h("thead", {}, h("tr", {}, ...header.map((c) => h("th", {}, c)))), h("tbody", {}, ...rows));
}

/** A list row that opens its item when clicked (or when its button is pressed) and stays marked as picked. */
function selectableRow(attrs: Record<string, string>, open: () => void, cells: (Node | string | number)[]): HTMLTableRowElement {
  const row = h(
    "tr",
    {
      ...attrs,
      class: "selectable",
      onclick: () => {
        row.closest(".store-lists")?.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
        row.classList.add("selected");
        open();
      },
    },
    ...cells.map((c) => h("td", {}, c)),
  );
  return row;
}

function jsonBlock(title: string, value: unknown): HTMLElement {
  return h("details", {}, h("summary", {}, title), h("pre", {}, JSON.stringify(value, null, 2)));
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return "";
  return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
}

const showParam = (v: ParamValue | undefined) => (v === undefined ? "" : typeof v === "number" ? fmt(v) : String(v));
