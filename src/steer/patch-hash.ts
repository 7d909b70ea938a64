/**
 * Content hash of a patch (its structure and every number), part of the key of caches computed on
 * a patched model. Two equal patches hash equal whatever their `info` says (info records how a
 * patch was made, not what it does). Web Crypto SHA-256, so it runs in browsers too.
 */
import { flattenPatch, type Patch } from "../model/patch.js";

export async function patchHash(patch: Patch | undefined): Promise<string> {
  if (!patch) return "none";
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const bytes = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  for (const p of flattenPatch(patch)) {
    if (p.type === "weights") {
      for (const name of Object.keys(p.deltas).sort()) {
        const d = p.deltas[name]!;
        parts.push(enc.encode(`\0W\0${name}\0${d.shape.join(",")}\0`), bytes(d.data));
      }
    } else {
      for (const a of p.additions) parts.push(enc.encode(`\0A\0${a.hook}\0${a.alpha}\0${a.positions}\0`), bytes(a.vector));
    }
  }
  const total = parts.reduce((s, x) => s + x.length, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const x of parts) {
    all.set(x, off);
    off += x.length;
  }
  const digest = await crypto.subtle.digest("SHA-256", all);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
