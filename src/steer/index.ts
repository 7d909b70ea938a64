/** Activation steering and probes (issue 7): the public surface of src/steer/. Browser-clean; disk caching is steer/activation-cache-node.ts. */
export { parseABItems, parseOpenEnded, answerLetter, tokenizeAnswer, abScoringRow, abText, abTokenization, defaultABPromptFormat, AB_PROMPT_FORMATS, type ABPromptFormat, type ABText, type ABItem, type OpenEndedItem, type ABFormat, type TokenizedAnswer, type ABScoringRow } from "./ab-data.js";
export { abScore, type ABScoreResult, type ABItemScore } from "./ab-score.js";
export { residHook, steeringPatch, scalePatch, dropZeroAdditions, steerModel, type SteeringSpec } from "./apply.js";
export { collectActivations, MemorySink, rowCount, type PositionSelect, type CollectItem, type ActivationSink, type CollectOptions } from "./collect.js";
export { dacGenerate, truncatedKL, topPSet, dacAlpha, type DacProperty, type DacOptions, type DacResult } from "./dac.js";
export { memorySource, contrastItems, fitContrastVectors, fitProbes, type ActivationSource, type ContrastMethod, type LabelledPrompt, type ProbeLayerReport } from "./fit.js";
export { openEndedBehaviour, extractAnswer, arithmeticAccuracy, type BehaviourJudge, type OpenEndedResult, type ArithmeticItem, type ArithmeticResult } from "./generation-evals.js";
export { fitProbe, probeScores, probeDirection, evaluateProbe, rocAuc, accuracy as probeAccuracy, type Probe, type ProbeOptions, type LayerProbeResult } from "./probe.js";
export { splitIndices, take, DEFAULT_FRACTIONS, type Splits, type SplitFractions } from "./splits.js";
export { abAt, abSweep, abSearch, selectBest, sweepTable, sweepPlotSpec, monotone, type SweepCell, type SweepOptions, type SearchOptions, type SearchResult } from "./sweep.js";
export { caaVector, meanDifferenceVector, normalizeVectors, pcaVector, firstComponent, pickRows, type Matrix } from "./vectors.js";
export { fitSteeringVectors, fitSteeringVectorsReport, runSteer, runSteerSweep, scoreItems, checkAlphaZero, scoreBatch, STEER_METHODS, type SteerMethod, type SteerData, type BehaviourData, type SteerOptions, type SteerResult, type SteerSweepOptions, type SteerSweepResult, type SteerObjective, type SteerItems, type Steering, type ItemScoring, type FitOptions, type Normalization } from "./experiment.js";
