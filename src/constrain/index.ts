/** Parameter constraints for training: monotone (non-negative) weights. */
export {
  applyMonotonicity, constrainedNames, DEFAULT_MONOTONE_PARAMS, monotoneConstraint, negativeFractions, paramOf, projectParams, trainingConstraint, weightOf,
  type ConstraintInit, type ConstraintMethod, type MonotoneConstraint,
} from "./monotone.js";
