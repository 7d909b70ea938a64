/**
 * The page's state: the model as loaded (`base`) and the patches applied to it, in order, with undo.
 * Every view reads `session.model` (base ⊕ patches), so an edit made in the edit tab changes what
 * the next-token, lens and attention tabs show; `revert` takes the newest patch back off.
 */
import { applyPatch, type Model, type Patch } from "../../browser.js";

export interface LabInfo {
  /** The served model's folder name, and the files under /model/ the page reads. */
  model: { name: string; files: string[] } | null;
  /** Whether a results store is served under /api/store/. */
  store: boolean;
  /** Whether cached covariance statistics are served under /stats/. */
  stats: boolean;
  version: string;
}

export interface AppliedPatch {
  label: string;
  patch: Patch;
}

export class LabSession {
  private patched: Model[] = [];
  private entries: AppliedPatch[] = [];
  private listeners = new Set<() => void>();

  constructor(
    readonly info: LabInfo,
    private loaded: Model | null,
    /** The engine's device ("wasm", "webgpu"). */
    readonly device: string,
  ) {}

  /** The model as loaded, without patches; throws when the lab has none. */
  get base(): Model {
    if (!this.loaded) throw new Error("no model is loaded: start the lab with --model DIR or drop a checkpoint folder on the page");
    return this.loaded;
  }

  get hasModel(): boolean {
    return this.loaded !== null;
  }

  /** base ⊕ every applied patch. */
  get model(): Model {
    return this.patched.at(-1) ?? this.base;
  }

  get applied(): readonly AppliedPatch[] {
    return this.entries;
  }

  /** Replace the model (a checkpoint dropped on the page); patches are cleared. */
  setModel(model: Model): void {
    this.clear();
    this.loaded?.dispose();
    this.loaded = model;
    this.emit();
  }

  apply(label: string, patch: Patch): void {
    this.patched.push(applyPatch(this.model, patch));
    this.entries.push({ label, patch });
    this.emit();
  }

  /** Take the newest patch off (undo). */
  revert(): AppliedPatch | undefined {
    const entry = this.entries.pop();
    this.patched.pop()?.dispose();
    if (entry) this.emit();
    return entry;
  }

  private clear(): void {
    while (this.entries.length) this.revert();
  }

  /** Call `fn` whenever the model or its patches change; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}
