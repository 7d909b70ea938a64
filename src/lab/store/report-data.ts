/**
 * Filling the report renderer's ReportData from the store, for `scalpel report RUN|STUDY`.
 * Numbers come from the store only (nothing recomputed), so a report shows what was recorded.
 */
import { ScalpelError } from "../../errors.js";
import type { Manifest } from "../manifest.js";
import { summarizeMetric } from "../report/summarize.js";
import type { CaseDistribution, MetricSummary, ReportConfiguration, ReportData, ReportManifest, ReportTrial, SeriesPoint } from "../report/types.js";
import { SEED_PARAM } from "../study/apply-params.js";
import { bestTrial, storedFinal } from "../study/final.js";
import type { FrozenTrial, TrialParams } from "../../analysis/search/types.js";
import { canonicalJson } from "../hash.js";
import { suggest } from "../suggest.js";
import { getKind } from "../kinds/registry.js";
import { caseResults, getConfig, getRun, listRuns, listStages, metricSeries, summaryMetrics } from "./runs.js";
import { artifactDir } from "../artifacts.js";
import { readReportSections, type ReportSection } from "../report/section.js";
import { stackTrialTables } from "../report/trial-sections.js";
import { getStudy, listStudies, listTrials, loadFrozenTrials, studySpec, trialParams, type StudyRow } from "./studies.js";
import type { Store } from "./store.js";

function toReportManifest(m: Manifest, extra: Record<string, string | number | boolean>, finishedAt?: string | null): ReportManifest {
  return {
    seed: m.seed,
    git: { commit: m.git.commit ?? undefined, dirty: m.git.dirty ?? undefined },
    versions: m.versions,
    machine: {
      host: m.machine.hostname,
      os: `${m.machine.platform} ${m.machine.arch}`,
      cpus: `${m.machine.cpus} × ${m.machine.cpuModel}`,
      memory: `${(m.machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB`,
    },
    startedAt: m.startedAt,
    finishedAt: m.endedAt ?? finishedAt ?? undefined,
    extra,
  };
}

export function runReportData(store: Store, runId: string): ReportData {
  const run = getRun(store.db, runId)!;
  const metrics: MetricSummary[] = Object.entries(summaryMetrics(store.db, runId)).map(([name, value]) => {
    const def = definitionOf(run.kind, name);
    return { name, mean: value, n: 1, ...(def ? { definition: def.definition, version: def.version } : {}) };
  });
  // Per-case results: one summary (mean, std, CI) per stage and metric over the cases.
  const byMetric = new Map<string, number[]>();
  for (const c of caseResults(store.db, runId)) {
    const key = `${c.stage}/${c.metric}`;
    byMetric.set(key, [...(byMetric.get(key) ?? []), c.value]);
  }
  for (const [key, values] of byMetric) {
    const def = definitionOf(run.kind, key.slice(key.indexOf("/") + 1));
    metrics.push(summarizeMetric(`${key} (per case)`, values, { definition: `mean over ${values.length} cases${def ? `; ${def.definition}` : ""}`, version: def?.version }));
  }
  const caseDistributions = [...byMetric].map(([key, values]) => {
    const [stage, metric] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
    return { metric, group: stage, values };
  });
  const series: SeriesPoint[] = metricSeries(store.db, runId).map((p) => ({ metric: p.name, step: p.step, value: p.value, group: p.stage }));
  return {
    title: `Run ${run.id}`,
    kind: "run",
    config: { kind: run.kind, seed: run.seed, config: getConfig(store.db, run.config_hash) },
    manifest: toReportManifest(JSON.parse(run.manifest) as Manifest, { run: run.id, kind: run.kind, status: run.status, ...(run.error ? { error: run.error } : {}) }, run.ended_at),
    metrics,
    series,
    caseDistributions,
    metricOrder: metricOrder(run.kind),
    sections: runSections(store, runId),
  };
}

/** The report sections a run's stages wrote into their artifacts. */
function runSections(store: Store, runId: string): ReportSection[] {
  return readReportSections(listStages(store.db, runId).flatMap((st) => (st.artifact ? [artifactDir(store.artifactsDir, st.artifact)] : [])));
}

/**
 * The trials' own sections in a study's report: a sweep's every complete trial, stacked by table
 * (trial-sections.ts); a search's best trial only, since its other trials are the search's
 * discards. Figures come from the best trial (a sweep without objective values: its first).
 */
function studySections(store: Store, study: StudyRow, frozen: readonly FrozenTrial[]): ReportData["sections"] {
  const complete = frozen.filter((t) => t.state === "complete");
  const best = bestTrial(frozen, studySpec(study).direction) ?? complete[0];
  const shown = study.mode === "sweep" ? complete : best ? [best] : [];
  const runIds = new Map(listTrials(store.db, study.id).map((t) => [t.number, t.run_id]));
  const trials = shown.map((t) => ({ number: t.number, params: t.params, sections: runSections(store, runIds.get(t.number)!) }));
  const tables = stackTrialTables(trials);
  const figures = best ? trials.find((t) => t.number === best.number)!.sections.flatMap((sec) => sec.figures.map((f) => ({ ...f, title: `Trial ${best.number} (${configurationLabel(best.params)}): ${f.title}` }))) : [];
  return tables.length || figures.length ? [{ tables, figures }] : [];
}

function metricOrder(kindName: string): string[] | undefined {
  try {
    const m = getKind(kindName).metrics;
    return m && Object.keys(m);
  } catch {
    return undefined;
  }
}

/** A metric's definition and version as its kind declares them (a `pre.` prefix names the unedited model's value). */
function definitionOf(kindName: string, metric: string): { definition: string; version: string } | undefined {
  let kind;
  try {
    kind = getKind(kindName);
  } catch {
    return undefined; // a store written by a kind this build does not have
  }
  const pre = metric.startsWith("pre.");
  const d = kind.metrics?.[pre ? metric.slice(4) : metric];
  return d && { definition: pre ? `unedited model: ${d.definition}` : d.definition, version: String(d.version) };
}

/** A configuration's label: its parameters without the replicate seed, e.g. "method=rome". */
export function configurationLabel(params: TrialParams): string {
  const parts = Object.entries(params).filter(([k]) => k !== SEED_PARAM).sort(([a], [b]) => a.localeCompare(b));
  return parts.length ? parts.map(([k, v]) => `${k}=${v}`).join(", ") : "all trials";
}

/**
 * Complete trials grouped by configuration (parameters without `seed`): every summary metric of
 * their runs as mean ± std with a Student-t interval (replicates are few: 3 seeds is typical), and
 * their per-case metrics pooled per configuration.
 */
function configurations(store: Store, study: StudyRow): { configurations: ReportConfiguration[]; caseDistributions: CaseDistribution[] } {
  const groups = new Map<string, { params: TrialParams; runs: string[] }>();
  for (const t of listTrials(store.db, study.id)) {
    if (t.state !== "complete") continue;
    const params = Object.fromEntries(Object.entries(trialParams(store.db, study.id, t.number)).filter(([k]) => k !== SEED_PARAM));
    const key = canonicalJson(params);
    const g = groups.get(key) ?? { params, runs: [] };
    g.runs.push(t.run_id);
    groups.set(key, g);
  }
  const out: ReportConfiguration[] = [];
  const dist = new Map<string, CaseDistribution>();
  for (const { params, runs } of groups.values()) {
    const label = configurationLabel(params);
    const byMetric = new Map<string, number[]>();
    for (const run of runs) {
      for (const [name, value] of Object.entries(summaryMetrics(store.db, run))) byMetric.set(name, [...(byMetric.get(name) ?? []), value]);
      for (const c of caseResults(store.db, run)) {
        const k = `${label}\u0000${c.metric}`;
        const d = dist.get(k) ?? { metric: c.metric, group: label, values: [] };
        d.values.push(c.value);
        dist.set(k, d);
      }
    }
    const metrics = [...byMetric].map(([name, values]) => {
      const def = definitionOf(study.kind, name);
      return summarizeMetric(name, values, { ci: "t", group: label, definition: `over ${values.length} run${values.length > 1 ? "s" : ""}${def ? `; ${def.definition}` : ""}`, version: def?.version });
    });
    out.push({ params, n: runs.length, metrics });
  }
  return { configurations: out, caseDistributions: [...dist.values()] };
}

export function studyReportData(store: Store, study: StudyRow): ReportData {
  const spec = studySpec(study);
  const frozen = loadFrozenTrials(store.db, study.id);
  const trials: ReportTrial[] = frozen.map((t) => ({
    number: t.number,
    state: t.state,
    params: t.params,
    ...(t.value !== undefined ? { value: t.value } : {}),
    intermediate: [...t.intermediate.entries()].sort((a, b) => a[0] - b[0]),
  }));
  const counts = { complete: 0, pruned: 0, fail: 0, running: 0 };
  for (const t of frozen) counts[t.state]++;
  const values = frozen.filter((t) => t.state === "complete" && t.value !== undefined && Number.isFinite(t.value)).map((t) => t.value!);
  const metrics = values.length ? [summarizeMetric(spec.metric, values, { definition: `objective over ${values.length} complete trials (${spec.direction})` })] : [];
  const steps = frozen.reduce((n, t) => n + t.intermediate.size, 0);
  const final = storedFinal(store, study);
  return {
    title: `${study.mode === "sweep" ? "Sweep" : "Study"} ${study.name}`,
    kind: "study",
    config: { kind: study.kind, seed: study.seed, config: getConfig(store.db, study.config_hash), study: spec },
    manifest: toReportManifest(
      JSON.parse(study.manifest) as Manifest,
      {
        study: study.name,
        kind: study.kind,
        status: study.status,
        sampler: spec.sampler.type,
        pruner: spec.pruner.type,
        trials: `${frozen.length}/${spec.nTrials} (${counts.complete} complete, ${counts.pruned} pruned, ${counts.fail} failed${counts.running ? `, ${counts.running} running` : ""})`,
        "intermediate steps": steps,
      },
      study.ended_at,
    ),
    metrics,
    trials,
    direction: spec.direction,
    objective: spec.metric,
    ...configurations(store, study),
    ...(final ? { final } : {}),
    metricOrder: metricOrder(study.kind),
    sections: studySections(store, study, frozen),
  };
}

/** ReportData for a study name or a run id. */
export function reportData(store: Store, target: string): ReportData {
  const study = getStudy(store.db, target);
  if (study) return studyReportData(store, study);
  if (getRun(store.db, target)) return runReportData(store, target);
  const names = [...listStudies(store.db).map((s) => s.name), ...listRuns(store.db).map((r) => r.id)];
  throw new ScalpelError("NOT_FOUND", `no run or study named '${target}' in ${store.dir}${suggest(target, names)}`, { fix: "list them with 'scalpel runs'" });
}
