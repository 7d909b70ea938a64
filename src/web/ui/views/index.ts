/** The lab's tabs, in order. One line per view file. */
import type { LabView } from "../view.js";
import { attentionView } from "./attention.js";
import { featuresView } from "./features.js";
import { lensView } from "./lens.js";
import { nextTokenView } from "./next-token.js";
import { storeView } from "./store.js";

export const VIEWS: readonly LabView[] = [nextTokenView, lensView, attentionView, featuresView, storeView];
