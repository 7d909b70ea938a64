/**
 * The patch format, in memory (browser-safe): one safetensors file whose
 * `__metadata__.scalpel_patch` holds the patch's JSON description (type, info, structure) and whose
 * tensors hold its numbers — readable by any safetensors tool, and never executable (no pickle).
 * patch-file.ts writes and reads the same bytes on disk (Node); this module is the one encoder and
 * decoder, so a patch downloaded from the web lab loads in the CLI and the other way round.
 *
 * Tensor names: "p{i}.delta.{param}" for weight deltas, "p{i}.add.{j}" for added vectors,
 * "p{i}.mod.{name}" for an attached module's tensors (its kind encodes and decodes them,
 * model/modules/index.ts), where i indexes the flattened patch list (composed patches are stored
 * flat, order kept).
 */
import { CheckpointError } from "../errors.js";
import { memorySource } from "../io/byte-source.js";
import type { HostTensor } from "../io/host-tensor.js";
import { parseJsonDocument } from "../io/json-parse.js";
import { openSafetensors, type SafetensorsReader } from "../io/safetensors.js";
import { serializeSafetensors } from "../io/safetensors-write.js";
import { moduleKind } from "./modules/index.js";
import { flattenPatch, type ActivationAddition, type Patch, type PatchInfo } from "./patch.js";

const KEY = "scalpel_patch";
const FORMAT_VERSION = 1;

type Entry =
  | { type: "weights"; info: PatchInfo; params: string[] }
  | { type: "activations"; info: PatchInfo; additions: { hook: string; alpha: number; positions: string }[] }
  | { type: "module"; info: PatchInfo; kind: string; meta: unknown; about?: unknown; tensors: string[] };

/** A patch as safetensors content: its tensors and the metadata describing them. */
export interface EncodedPatch {
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string>;
}

export function encodePatch(patch: Patch): EncodedPatch {
  const tensors: Record<string, HostTensor> = {};
  const entries: Entry[] = flattenPatch(patch).map((p, i) => {
    if (p.type === "weights") {
      for (const [name, d] of Object.entries(p.deltas)) tensors[`p${i}.delta.${name}`] = { dtype: "float32", shape: d.shape, data: d.data };
      return { type: "weights", info: p.info, params: Object.keys(p.deltas) };
    }
    if (p.type === "module") {
      const e = moduleKind(p.module.kind).encode(p.module);
      for (const [name, t] of Object.entries(e.tensors)) tensors[`p${i}.mod.${name}`] = { dtype: "float32", shape: t.shape, data: t.data };
      return { type: "module", info: p.info, kind: p.module.kind, meta: e.meta, about: e.about ?? null, tensors: Object.keys(e.tensors) };
    }
    p.additions.forEach((a, j) => (tensors[`p${i}.add.${j}`] = { dtype: "float32", shape: [a.vector.length], data: a.vector }));
    return { type: "activations", info: p.info, additions: p.additions.map((a) => ({ hook: a.hook, alpha: a.alpha, positions: a.positions })) };
  });
  const meta = { version: FORMAT_VERSION, info: patch.info, composed: patch.type === "composed", entries };
  return { tensors, metadata: { [KEY]: JSON.stringify(meta) } };
}

/** The patch as the bytes of a .safetensors file (what savePatch writes). */
export function patchToBytes(patch: Patch): Uint8Array {
  const { tensors, metadata } = encodePatch(patch);
  return serializeSafetensors(tensors, metadata);
}

/** The patch in a .safetensors file's bytes; `name` labels errors (the file name). CheckpointError when it is not a patch. */
export async function patchFromBytes(bytes: Uint8Array, name: string): Promise<Patch> {
  return readPatch(await openSafetensors(memorySource(bytes), name));
}

/** Decode the patch an open safetensors reader holds; the reader is closed. */
export async function readPatch(reader: SafetensorsReader): Promise<Patch> {
  try {
    return await decode(reader);
  } finally {
    await reader.close();
  }
}

async function decode(reader: SafetensorsReader): Promise<Patch> {
  const file = reader.file;
  const bad = (msg: string) => new CheckpointError("PATCH_FILE", msg, { file, fix: "give a file written by scalpel's savePatch" });
  const raw = reader.metadata?.[KEY];
  if (raw === undefined) throw bad(`not a scalpel patch: the safetensors metadata has no "${KEY}" entry`);
  const meta = parseJsonDocument(raw, file, { errorClass: CheckpointError, what: `the patch description (__metadata__.${KEY})` }) as {
    version?: number;
    info?: PatchInfo;
    composed?: boolean;
    entries?: Entry[];
  };
  if (meta.version !== FORMAT_VERSION || !Array.isArray(meta.entries) || !meta.info) throw bad(`unsupported patch format (version ${String(meta.version)})`);
  const tensor = async (name: string) => {
    if (!reader.has(name)) throw bad(`the patch description names tensor ${name}, which the file does not hold`);
    return reader.readF32(name);
  };
  const patches: Patch[] = [];
  for (const [i, e] of meta.entries.entries()) {
    if (e.type === "weights") {
      const deltas: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const name of e.params) deltas[name] = await tensor(`p${i}.delta.${name}`);
      patches.push({ type: "weights", info: e.info, deltas });
    } else if (e.type === "activations") {
      const additions: ActivationAddition[] = [];
      for (const [j, a] of e.additions.entries()) {
        if (a.positions !== "all" && a.positions !== "after-prompt") throw bad(`addition ${j} of entry ${i} has positions "${a.positions}"`);
        additions.push({ hook: a.hook, alpha: a.alpha, positions: a.positions, vector: (await tensor(`p${i}.add.${j}`)).data });
      }
      patches.push({ type: "activations", info: e.info, additions });
    } else if (e.type === "module") {
      const kind = (() => {
        try {
          return moduleKind(e.kind);
        } catch (err) {
          throw bad(`entry ${i}: ${(err as Error).message}`);
        }
      })();
      const ts: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const name of e.tensors ?? []) ts[name] = await tensor(`p${i}.mod.${name}`);
      try {
        patches.push({ type: "module", info: e.info, module: kind.decode({ meta: e.meta, tensors: ts, about: e.about }) });
      } catch (err) {
        throw bad(`entry ${i} (${e.kind}): ${(err as Error).message}`);
      }
    } else throw bad(`entry ${i} has unknown type ${JSON.stringify((e as { type: unknown }).type)}`);
  }
  if (meta.composed || patches.length !== 1) return { type: "composed", info: meta.info, patches };
  return patches[0]!;
}
