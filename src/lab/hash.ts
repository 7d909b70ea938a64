/**
 * Content hashing for artifacts and configs. Keys are sorted before hashing so that two configs
 * that differ only in key order (YAML vs JSON, hand-edited files) hash the same.
 */
import { createHash } from "node:crypto";

export { canonicalJson } from "../util/hash.js";
import { canonicalJson } from "../util/hash.js";

export function sha256(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

/** sha256 of the canonical JSON of `value`. */
export function hashValue(value: unknown): string {
  return sha256(canonicalJson(value));
}
