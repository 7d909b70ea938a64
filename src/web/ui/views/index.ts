/** The lab's tabs, in order. One line per view file. */
import type { LabView } from "../view.js";
import { attentionView } from "./attention.js";
import { editView } from "./edit.js";
import { featuresView } from "./features.js";
import { lensView } from "./lens.js";
import { nextTokenView } from "./next-token.js";
import { steerView } from "./steer.js";
import { storeView } from "./store.js";

export const VIEWS: readonly LabView[] = [nextTokenView, lensView, attentionView, editView, steerView, featuresView, storeView];
