/** Registers scalpel's samplers and pruners under the names configs use (options in snake_case as in configs). */
import { GridSampler } from "../../analysis/search/grid.js";
import { MedianPruner } from "../../analysis/search/pruner.js";
import { RandomSampler } from "../../analysis/search/random.js";
import { TPESampler } from "../../analysis/search/tpe.js";
import { registerPruner, registerSampler } from "./search-factory.js";

const int = (v: unknown) => (typeof v === "number" ? v : undefined);

registerSampler("random", (_opts, ctx) => new RandomSampler({ seed: ctx.seed }));
registerSampler("grid", (_opts, ctx) => new GridSampler({ seed: ctx.seed }));
registerSampler("tpe", (opts, ctx) => new TPESampler({ seed: ctx.seed, nStartupTrials: int(opts.n_startup_trials), nEiCandidates: int(opts.n_ei_candidates) }));

registerPruner(
  "median",
  (opts) => new MedianPruner({ nStartupTrials: int(opts.n_startup_trials), nWarmupSteps: int(opts.n_warmup_steps), intervalSteps: int(opts.interval_steps) }),
);
