/**
 * Return to the event loop. Long optimisation loops call this once per step: V8 keeps every
 * object a WeakRef was made for or dereferenced alive until the current job ends, and a loop that
 * only awaits resolved promises (readF32 of a ready array) never ends its job — jax-js's autodiff
 * uses WeakRefs, so such a loop grew the JS heap by ~2 MB per gradient step through a 4-layer
 * model (GRACE's 5,000 value steps for 100 edits reached 4 GB). One macrotask hop per step costs
 * microseconds. Works in Node (setImmediate) and browsers (setTimeout).
 */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
