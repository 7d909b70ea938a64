import { test } from "node:test";
import assert from "node:assert/strict";
import { closest, didYouMean, editDistance } from "../../src/util/closest.js";

test("editDistance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("tau", "tau"), 0);
});

test("closest prefers a case-insensitive match, then the nearest plausible typo", () => {
  assert.equal(closest("Temporal", ["temporal", "hallucination"]), "temporal");
  assert.equal(closest("learnig_rate", ["learning_rate", "layers"]), "learning_rate");
  assert.equal(closest("zzzzzz", ["learning_rate", "layers"]), undefined);
  assert.equal(didYouMean("layres", ["layers"]), " Did you mean 'layers'?");
});
