/**
 * The web lab's page: start the engine (WebGPU where the browser has it, else Wasm), load the
 * model the server offers (or a folder the user drops), and show the views as tabs. Everything
 * runs here, in the page, through the browser-safe core (src/browser.ts); the server only serves
 * files and the store's JSON.
 */
import { initEngine, type DeviceName } from "../../browser.js";
import { busy, h, replace } from "./dom.js";
import { droppedFiles, fetchGetter, filesGetter, loadModelFromFiles, pickedFiles } from "./model-files.js";
import { LabSession, type LabInfo } from "./session.js";
import type { LabView } from "./view.js";
import { VIEWS } from "./views/index.js";

const $ = (id: string) => document.getElementById(id)!;

async function boot(): Promise<void> {
  const status = $("model-status");
  const info = (await (await fetch("/api/lab")).json()) as LabInfo;
  // ?device=wasm forces the Wasm backend (tests compare it with the CLI, which runs on Wasm).
  const wanted = (new URLSearchParams(location.search).get("device") ?? "auto") as DeviceName | "auto";
  const device = await initEngine(wanted);
  const session = new LabSession(info, null, device);
  const tabs = new Tabs(session);
  if (info.model) {
    const { name, files } = info.model;
    await busy(null, status, `loading ${name} on ${device}…`, async () => session.setModel(await loadModelFromFiles(fetchGetter("/model", files), name)));
  } else {
    replace(status, `no model served (${device}): load a checkpoint folder`);
    status.className = "status";
  }
  const load = (label: string, files: Map<string, File>) =>
    busy(null, status, `loading ${label} on ${device}…`, async () => {
      session.setModel(await loadModelFromFiles(filesGetter(files), label));
      tabs.remount();
    });
  $("folder").addEventListener("change", (e) => {
    const list = [...((e.target as HTMLInputElement).files ?? [])];
    void load(list[0]?.webkitRelativePath.split("/")[0] ?? "picked folder", pickedFiles(list));
  });
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer) void droppedFiles(e.dataTransfer.items).then(({ label, files }) => load(label, files));
  });
  session.onChange(() => showPatches(session));
  showPatches(session);
  tabs.open(location.hash.slice(1) || VIEWS[0]!.id);
  document.body.dataset.ready = session.hasModel ? "model" : "no-model";
}

/** The tab bar: each view is mounted the first time it is opened. */
class Tabs {
  private mounted = new Map<string, HTMLElement>();

  constructor(private session: LabSession) {
    const nav = $("tabs");
    for (const v of VIEWS) nav.append(h("button", { "data-view": v.id, role: "tab", onclick: () => this.open(v.id) }, v.title));
    window.addEventListener("hashchange", () => this.open(location.hash.slice(1)));
  }

  open(id: string): void {
    const view = VIEWS.find((v) => v.id === id) ?? VIEWS[0]!;
    if (location.hash.slice(1) !== view.id) history.replaceState(null, "", `#${view.id}`);
    for (const b of $("tabs").querySelectorAll("button")) b.setAttribute("aria-selected", String(b.dataset.view === view.id));
    for (const [vid, el] of this.mounted) el.hidden = vid !== view.id;
    if (!this.mounted.has(view.id)) this.mount(view);
  }

  /** A new model was loaded: views holding the old one are rebuilt when next opened. */
  remount(): void {
    const current = location.hash.slice(1);
    for (const el of this.mounted.values()) el.remove();
    this.mounted.clear();
    this.open(current);
  }

  private mount(view: LabView): void {
    const root = h("section", { class: "view", "data-view-root": view.id });
    $("views").append(root);
    this.mounted.set(view.id, root);
    if (view.needsModel && !this.session.hasModel) {
      root.append(h("p", { class: "muted" }, "Load a model first (start the lab with --model DIR, or load a checkpoint folder above)."));
      return;
    }
    Promise.resolve(view.mount(root, this.session)).catch((e) => root.append(h("p", { class: "status error" }, String(e instanceof Error ? e.message : e))));
  }
}

function showPatches(session: LabSession): void {
  const list = session.applied;
  replace(
    $("patches"),
    list.length ? "applied: " : "the model as loaded (no patches)",
    ...list.map((p) => h("span", { class: "patch" }, p.label)),
    list.length ? h("button", { "data-action": "undo-last", onclick: () => session.revert() }, "undo the last") : null,
  );
}

boot().catch((e) => {
  const status = $("model-status");
  status.className = "status error";
  status.textContent = e instanceof Error ? e.message : String(e);
  document.body.dataset.ready = "error";
  console.error(e);
});
