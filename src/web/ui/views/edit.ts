/**
 * Live edit: one ROME (or MEMIT) edit on the lab's model, applied as a patch every tab sees, with
 * the edited prompt, a paraphrase and a neighbour measured before and after; undo, and the patch
 * as a .safetensors download (the same file `scalpel` reads with loadPatch). The work is in
 * ../live-edit.ts.
 */
import { edit, patchToBytes, type Patch } from "../../../browser.js";
import { busy, h, pct, replace } from "../dom.js";
import { editAndMeasure, EDIT_METHODS, formFromCounterFact, type EditForm, type EditMethod, type EditOutcome } from "../live-edit.js";
import type { LabSession } from "../session.js";
import { labStatsStore } from "../stats-store.js";
import type { LabView } from "../view.js";

/** One for the page's lifetime: the covariance of a base model is computed on its first edit only. */
const caches = new edit.EditCaches();

const COUNTERFACT = "data/counterfact.json";

const FIELDS: { key: keyof EditForm; name: string; label: string; placeholder: string }[] = [
  { key: "subject", name: "subject", label: "subject", placeholder: "Aldo Venn" },
  { key: "prompt", name: "prompt", label: "relation ({} = subject)", placeholder: "{} was born in" },
  { key: "targetNew", name: "target", label: "new target", placeholder: "Kelmar" },
  { key: "targetTrue", name: "target-true", label: "true target", placeholder: "blank: the answer before the edit" },
  { key: "paraphrase", name: "paraphrase", label: "paraphrase", placeholder: "a rephrasing of the edited prompt (optional)" },
  { key: "neighbour", name: "neighbour", label: "neighbour", placeholder: "the relation for another subject (optional)" },
];

/** The form's rows: the request, its targets, the probes. */
const LAYOUT: (keyof EditForm)[][] = [["subject", "prompt"], ["targetNew", "targetTrue"], ["paraphrase", "neighbour"]];

/** The form pre-filled from the served model's CounterFact export, when it has one. */
async function prefill(session: LabSession): Promise<EditForm | undefined> {
  if (!session.info.model?.files.includes(COUNTERFACT)) return undefined;
  const res = await fetch(`/model/${COUNTERFACT}`);
  if (!res.ok) return undefined;
  return formFromCounterFact(await res.json(), COUNTERFACT);
}

function resultTable(out: EditOutcome): HTMLTableElement {
  const p = (before: number, after: number) => `${pct(before)} → ${pct(after)}`;
  return h(
    "table",
    { id: "edit-result" },
    h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "prompt"), h("th", {}, "before"), h("th", {}, "after"), h("th", {}, `P(${out.request.targetNew})`), h("th", {}, `P(${out.request.targetTrue})`))),
    h(
      "tbody",
      {},
      ...out.rows.map((r) =>
        h(
          "tr",
          { "data-row": r.kind },
          h("th", {}, r.kind),
          h("td", {}, r.text),
          h("td", { "data-col": "before", class: "tok" }, r.before.answer),
          h("td", { "data-col": "after", class: "tok" }, r.after.answer),
          h("td", { "data-col": "p-new", class: "num" }, p(r.before.pNew, r.after.pNew)),
          h("td", { "data-col": "p-true", class: "num" }, p(r.before.pTrue, r.after.pTrue)),
        ),
      ),
    ),
  );
}

function download(patch: Patch, name: string): void {
  // serializeSafetensors allocates a plain ArrayBuffer; its type says ArrayBufferLike, which Blob refuses.
  const bytes = patchToBytes(patch) as Uint8Array<ArrayBuffer>;
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  h("a", { href: url, download: name }).click();
  // The click has started the download; the URL is not needed after this turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** A file name for the patch: "rome-aldo-venn-kelmar.safetensors". */
const fileName = (out: EditOutcome) =>
  `${[out.patch.info.method, out.request.subject, out.request.targetNew].join("-").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}.safetensors`;

export const editView: LabView = {
  id: "edit",
  title: "Edit",
  needsModel: true,
  async mount(root, session) {
    const statsStore = labStatsStore(session.info.stats);
    const initial = await prefill(session).catch(() => undefined);
    const inputs = Object.fromEntries(
      FIELDS.map((f) => [f.key, h("input", { type: "text", name: f.name, placeholder: f.placeholder, value: initial?.[f.key] ?? "" })]),
    ) as Record<keyof EditForm, HTMLInputElement>;
    const method = h("select", { name: "method" }, ...EDIT_METHODS.map((m) => h("option", { value: m }, m.toUpperCase())));
    const apply = h("button", { "data-action": "apply-edit" }, "Apply edit");
    const undo = h("button", { "data-action": "undo" }, "Undo");
    const save = h("button", { "data-action": "download-patch", disabled: true }, "Download patch");
    const status = h("div", { id: "edit-status", class: "status" }, initial ? `pre-filled from ${COUNTERFACT}` : "");
    const progress = h("progress", { max: 1, value: 0, hidden: true });
    const result = h("div", {});
    let last: EditOutcome | undefined;

    const refreshUndo = () => {
      undo.disabled = session.applied.length === 0;
      undo.title = session.applied.at(-1)?.label ?? "";
    };
    session.onChange(refreshUndo);
    refreshUndo();

    apply.addEventListener("click", async () => {
      const form = Object.fromEntries(FIELDS.map((f) => [f.key, inputs[f.key].value])) as unknown as EditForm;
      const m = method.value as EditMethod;
      let outcome: EditOutcome | undefined;
      progress.hidden = false;
      await busy(apply, status, `Editing with ${m.toUpperCase()}…`, async () => {
        outcome = await editAndMeasure(session, form, {
          method: m,
          caches,
          statsStore,
          onProgress: (stage, done, total) => {
            status.textContent = `Editing with ${m.toUpperCase()}… ${stage} ${done}/${total}`;
            progress.value = total ? done / total : 0;
          },
        });
      });
      progress.hidden = true;
      if (!outcome) return;
      last = outcome;
      // busy() wrote the whole step's time ("done in X s"); the editor's own share follows.
      status.textContent += ` (${m.toUpperCase()} itself ${outcome.editSeconds.toFixed(1)} s; the rest is measuring before and after)`;
      replace(result, resultTable(outcome));
      save.disabled = false;
    });

    undo.addEventListener("click", () => {
      const entry = session.revert();
      status.className = "status done";
      status.textContent = entry ? `reverted: ${entry.label}` : "nothing to undo";
    });

    save.addEventListener("click", () => {
      if (last) download(last.patch, fileName(last));
    });

    const label = (key: keyof EditForm) => [FIELDS.find((f) => f.key === key)!.label, inputs[key]];
    replace(
      root,
      h("h2", {}, "Live edit"),
      h("p", { class: "muted" }, "Rewrite one fact in the model (ROME / MEMIT). The patch applies to every tab; Undo takes the newest patch off."),
      ...LAYOUT.map((keys) => h("div", { class: "row" }, ...keys.flatMap(label))),
      h("div", { class: "row" }, "method", method, apply, undo, save, progress),
      status,
      result,
    );
  },
};
