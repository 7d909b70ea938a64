/**
 * Content hashing for artifacts and configs: util/hash.ts's canonical JSON (key order never
 * changes a hash: YAML vs JSON, hand-edited files) and its synchronous SHA-256.
 */
import { canonicalJson, sha256HexSync } from "../util/hash.js";

export { canonicalJson };

/** sha256 of the canonical JSON of `value`. */
export function hashValue(value: unknown): string {
  return sha256HexSync(canonicalJson(value));
}
