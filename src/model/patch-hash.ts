/**
 * The one content hash of a patch, part of the key of every cache computed on a patched model
 * (evaluation requests, activations). It covers exactly what determines the patch's effect, in
 * application order: each weight delta (parameter name, shape, every float) and each activation
 * addition (hook, α, positions, every float), and each attached module (its kind's description and
 * tensors). `info` — how a patch was made — is left out, so two
 * patches that do the same thing share cached results, and two that differ in any number never do.
 * SHA-256 through util/hash.ts (Web Crypto), so it runs in browsers too.
 */
import { sha256Hex } from "../util/hash.js";
import { moduleKind } from "./modules/index.js";
import { flattenPatch, type Patch } from "./patch.js";

const bytes = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

export async function patchHash(patch: Patch | undefined): Promise<string> {
  if (!patch) return "none";
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const p of flattenPatch(patch)) {
    if (p.type === "weights") {
      for (const name of Object.keys(p.deltas).sort()) {
        const d = p.deltas[name]!;
        parts.push(enc.encode(`\0W\0${name}\0${d.shape.join(",")}\0`), bytes(d.data));
      }
    } else if (p.type === "activations") {
      for (const a of p.additions) parts.push(enc.encode(`\0A\0${a.hook}\0${a.alpha}\0${a.positions}\0`), bytes(a.vector));
    } else {
      // A module is what its kind encodes: the JSON description (info-like fields included only when
      // the kind puts them there) and every tensor, by sorted name.
      const { meta, tensors } = moduleKind(p.module.kind).encode(p.module);
      parts.push(enc.encode(`\0M\0${p.module.kind}\0${JSON.stringify(meta)}\0`));
      for (const name of Object.keys(tensors).sort()) {
        const t = tensors[name]!;
        parts.push(enc.encode(`\0T\0${name}\0${t.shape.join(",")}\0`), bytes(t.data));
      }
    }
  }
  return sha256Hex(parts);
}
