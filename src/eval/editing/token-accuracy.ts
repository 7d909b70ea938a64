/**
 * EasyEdit's token-level metrics (EasyEdit easyeditor/evaluate/evaluate_utils.py
 * test_prediction_acc and editor.py's locality post-processing):
 *
 * - reliability / generalisation / portability: teacher-forced per-token accuracy of the target
 *   after the prompt, mean over the target's tokens of [argmax_j == target_j] (the input is
 *   prompt + " " + target; each target token is compared with the argmax at the position before it);
 *   a case's value is the mean over its prompts.
 * - locality: the edited model's argmax tokens on (locality prompt + " " + its answer) compared
 *   position by position with the unedited model's argmax tokens on the same input,
 *   mean[np.equal(post, pre)] — agreement with the unedited model, not accuracy against the answer.
 */

/** Mean over positions of [predicted_j == target_j]. */
export function tokenAccuracy(predicted: readonly number[], target: readonly number[]): number {
  if (predicted.length !== target.length) throw new RangeError(`tokenAccuracy: ${predicted.length} predictions for ${target.length} target tokens`);
  if (target.length === 0) throw new RangeError("tokenAccuracy: empty target");
  let hits = 0;
  for (let i = 0; i < target.length; i++) if (predicted[i] === target[i]) hits++;
  return hits / target.length;
}

/** Locality of one prompt: agreement of the edited model's argmax tokens with the unedited model's. */
export function localityAgreement(post: readonly number[], pre: readonly number[]): number {
  return tokenAccuracy(post, pre);
}
