/**
 * The causal-tracing heat map as an inline SVG (ROME's plot_trace_heatmap): one row per token
 * (subject tokens starred), one column per layer, colour = P(answer) with that state restored,
 * from white at the corrupted run's probability (the low score) to the kind's colour at the
 * maximum — Purples for hidden states, Greens for MLP, Reds for attention, as ROME draws them.
 * Plain SVG text: no DOM, no plotting library; each cell carries a <title> with its value.
 */
import type { HiddenFlow } from "./causal-trace.js";

const COLOURS: Record<string, [number, number, number]> = { "": [84, 39, 143], mlp: [0, 109, 44], attn: [165, 15, 21] };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function traceHeatmapSvg(flow: HiddenFlow, title?: string): string {
  const cell = 22;
  const rowLabelW = 120;
  const top = 40;
  const L = flow.scores[0]?.length ?? 0;
  const rows = flow.scores.length;
  const width = rowLabelW + L * cell + 120;
  const height = top + rows * cell + 50;
  const flat = flow.scores.flat();
  const lo = flow.lowScore;
  const hi = Math.max(lo + 1e-9, ...flat);
  const [r0, g0, b0] = COLOURS[flow.kind]!;
  const colour = (v: number) => {
    const a = Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
    const mix = (c: number) => Math.round(255 + (c - 255) * a);
    return `rgb(${mix(r0)},${mix(g0)},${mix(b0)})`;
  };
  const what = flow.kind === "" ? "single restored layer" : `restored ${flow.kind.toUpperCase()} window of ${flow.window}`;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="${rowLabelW}" y="16" font-size="13">${esc(title ?? `Impact of restoring state after corrupted input (${what})`)}</text>`);
  parts.push(`<text x="${rowLabelW}" y="32">p(${esc(flow.answer.trim())}): clean ${flow.highScore.toFixed(3)}, corrupted ${flow.lowScore.toFixed(3)}</text>`);
  const tokenRows = flow.scores.length === flow.tokens.length ? flow.tokens : flow.scores.map((_, i) => flow.tokens[i] ?? "");
  flow.scores.forEach((row, t) => {
    const isSubject = t >= flow.subjectRange[0] && t < flow.subjectRange[1];
    const label = `${tokenRows[t]!.trim()}${isSubject ? "*" : ""}`;
    const y = top + t * cell;
    parts.push(`<text x="${rowLabelW - 6}" y="${y + cell * 0.68}" text-anchor="end">${esc(label)}</text>`);
    row.forEach((v, l) => {
      parts.push(`<rect x="${rowLabelW + l * cell}" y="${y}" width="${cell}" height="${cell}" fill="${colour(v)}"><title>token ${t} (${esc(label)}), layer ${l}: p = ${v.toFixed(4)}</title></rect>`);
    });
  });
  for (let l = 0; l < L; l++) {
    if (L <= 16 || l % Math.ceil(L / 16) === 0) parts.push(`<text x="${rowLabelW + l * cell + cell / 2}" y="${top + rows * cell + 14}" text-anchor="middle">${l}</text>`);
  }
  parts.push(`<text x="${rowLabelW + (L * cell) / 2}" y="${top + rows * cell + 32}" text-anchor="middle">layer</text>`);
  // Colour bar.
  const barX = rowLabelW + L * cell + 20;
  for (let i = 0; i < 10; i++) {
    const v = hi - ((hi - lo) * i) / 9;
    parts.push(`<rect x="${barX}" y="${top + i * 12}" width="14" height="12" fill="${colour(v)}"/>`);
  }
  parts.push(`<text x="${barX + 18}" y="${top + 9}">${hi.toFixed(3)}</text>`);
  parts.push(`<text x="${barX + 18}" y="${top + 117}">${lo.toFixed(3)}</text>`);
  parts.push("</svg>");
  return parts.join("\n");
}
