/** The delta-transcoder kind's table and plots (ΔCE vs layer, tool-call rate vs α), for the run report. */
import type { TopLevelSpec } from "vega-lite";
import { formatNumber } from "../../analysis/descriptive.js";
import type { SectionTable } from "../report/section.js";

type Row = Record<string, number | string | null>;

interface Results {
  base_model: Record<string, number>;
  finetuned: Record<string, number>;
  ce_raw: number;
  conditions: Row[];
}

const f = (v: unknown) => (typeof v === "number" ? formatNumber(v, 4) : v === null || v === undefined ? "" : String(v));
const label = (r: Row) => (r.condition === "base+delta" ? `base + ${r.alpha}·delta (w ${r.width})` : String(r.condition));

export function deltaTranscoderTable(r: Results): SectionTable {
  const metrics = ["delta_ce", "tool_call_rate", "valid_tool_format_rate", "math_correct_rate", "copy_rate"];
  const rows: string[][] = [
    ["base model (no fine-tune)", "", "", ...metrics.map((m) => (m === "delta_ce" ? "" : f(r.base_model[m])))],
    ...r.conditions.map((c) => [label(c), f(c.layer), f(c.width), ...metrics.map((m) => f(c[m]))]),
  ];
  return {
    title: "Delta transcoder: conditions on the fine-tuned model",
    header: ["Condition", "Layer", "d_new", ...metrics],
    rows,
    note: `ΔCE = CE with the splice − CE of the raw fine-tuned model (${formatNumber(r.ce_raw, 4)} nats/token) on held-out text; behaviour on held-out word problems (tool calls) and copy prompts.`,
  };
}

export function deltaTranscoderFigures(r: Results): { title: string; spec: TopLevelSpec }[] {
  const byLayer = r.conditions.filter((c) => c.condition === "base_only" || (c.condition === "base+delta" && c.alpha === 1)).map((c) => ({ layer: c.layer, delta_ce: c.delta_ce, series: c.condition === "base_only" ? "base only" : `base + delta (w ${c.width})` }));
  const sweep = r.conditions.filter((c) => c.condition === "base+delta").map((c) => ({ alpha: c.alpha, tool_call_rate: c.tool_call_rate, series: `layer ${c.layer}, w ${c.width}` }));
  const rule = (value: number, what: string) => ({ mark: { type: "rule", strokeDash: [4, 4] }, data: { values: [{ y: value, what }] }, encoding: { y: { field: "y", type: "quantitative" }, tooltip: { field: "what" } } });
  return [
    {
      title: "ΔCE vs layer (α = 1 for the deltas)",
      spec: {
        width: 420, height: 240,
        data: { values: byLayer },
        mark: { type: "line", point: true },
        encoding: { x: { field: "layer", type: "ordinal", title: "layer" }, y: { field: "delta_ce", type: "quantitative", title: "ΔCE (nats/token)" }, color: { field: "series", type: "nominal", title: null } },
      } as TopLevelSpec,
    },
    {
      title: "Tool-call rate vs α (dashed: raw fine-tuned model and base model)",
      spec: {
        width: 420, height: 240,
        layer: [
          { data: { values: sweep }, mark: { type: "line", point: true }, encoding: { x: { field: "alpha", type: "quantitative", title: "α" }, y: { field: "tool_call_rate", type: "quantitative", title: "tool-call rate", scale: { domain: [0, 1] } }, color: { field: "series", type: "nominal", title: null } } },
          rule(r.finetuned.tool_call_rate!, "fine-tuned"),
          rule(r.base_model.tool_call_rate!, "base model"),
        ],
      } as TopLevelSpec,
    },
  ];
}
