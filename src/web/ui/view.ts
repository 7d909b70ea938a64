/**
 * What a tab of the web lab is. Each view is one file in views/ and is listed in main.ts; it gets
 * the session (the loaded model, the patches applied to it) and builds its DOM once.
 */
import type { LabSession } from "./session.js";

export interface LabView {
  /** Used in the URL hash (#next) and as the tab's data-view attribute (tests select by it). */
  id: string;
  title: string;
  /** Whether the view needs a loaded model (the store view does not). */
  needsModel: boolean;
  /** Build the view into `root`; called once, the first time its tab is opened. */
  mount(root: HTMLElement, session: LabSession): void | Promise<void>;
}
