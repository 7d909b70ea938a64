/** Public API of the training layer. */
export { adamwStep, adamwStateFromHost, adamwStateToHost, defaultDecay, initAdamW, type AdamWOptions, type AdamWState } from "./adamw.js";
export { Batcher, type Batch, type BatcherOptions, type BatchPosition, type TrainDocument } from "./batches.js";
export { latestCheckpoint, loadTrainCheckpoint, saveTrainCheckpoint, type StepRecord, type TrainState } from "./checkpoint.js";
export { clipGradNorm } from "./clip.js";
export { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, type TrainConfig } from "./config.js";
export { train, type LogEntry, type TrainConstraint, type TrainOptions, type TrainResult } from "./loop.js";
export { learningRate, type ScheduleOptions } from "./schedule.js";
export { readTextDocuments } from "./text-data.js";
