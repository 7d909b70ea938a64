/**
 * MEND networks and training checkpoints on disk (Node): safetensors tensors plus a JSON header in
 * `__metadata__["scalpel_mend"]`, written atomically (io/atomic.ts). The reference's archives are
 * torch pickles (EasyEdit `archive: …/llama-2-7b-ZsRE`); pickles run code when loaded, so they are
 * refused with a typed error naming the file.
 *
 * Tensor names: net.{shape key}.{layers.i.u|v|bias|mode_scale|mode_shift}, net.{key}.stats.{u_mean,
 * v_mean, u_s, v_s}, edit_lrs; checkpoints add adam.{m|v}.{j}, lr_adam.{m|v}.{j}, accum.{j} and the
 * best network under best.*.
 */
import { promises as fs } from "node:fs";
import { CheckpointError } from "../errors.js";
import type { HostTensor } from "../io/host-tensor.js";
import { openSafetensorsFile, writeSafetensors } from "../io/safetensors-file.js";
import type { SafetensorsReader } from "../io/safetensors.js";
import type { MendNetwork } from "./mend-net.js";
import type { MendCheckpointStore, MendStepLog, MendTrainState } from "./mend-train.js";

const FORMAT = "scalpel-mend";

interface NetHeader {
  format: string;
  version: 1;
  config: MendNetwork["config"];
  innerParams: string[];
  shapes: number[][];
  nets: Record<string, { xDim: number; deltaDim: number; nModes: number; k: number }>;
}

function f32(data: Float32Array, shape: number[]): HostTensor {
  return { dtype: "float32", shape, data };
}

function netTensors(net: MendNetwork, prefix: string, out: Record<string, HostTensor>): NetHeader {
  const nets: NetHeader["nets"] = {};
  for (const [key, n] of Object.entries(net.nets)) {
    nets[key] = { xDim: n.xDim, deltaDim: n.deltaDim, nModes: n.nModes, k: n.stats.k };
    for (const [t, h] of Object.entries(n.params)) out[`${prefix}net.${key}.${t}`] = f32(h.data, h.shape);
    const s = n.stats;
    out[`${prefix}net.${key}.stats.u_mean`] = f32(s.uMean, [s.uMean.length]);
    out[`${prefix}net.${key}.stats.v_mean`] = f32(s.vMean, [s.vMean.length]);
    out[`${prefix}net.${key}.stats.u_s`] = f32(s.uS, [s.uS.length]);
    out[`${prefix}net.${key}.stats.v_s`] = f32(s.vS, [s.vS.length]);
  }
  out[`${prefix}edit_lrs`] = f32(net.editLrs, [net.editLrs.length]);
  return { format: FORMAT, version: 1, config: net.config, innerParams: net.innerParams, shapes: net.shapes, nets };
}

async function readNet(r: SafetensorsReader, h: NetHeader, prefix: string, file: string): Promise<MendNetwork> {
  const get = async (name: string): Promise<Float32Array> => {
    if (!r.has(name)) throw new CheckpointError("MEND_FILE_CORRUPT", `tensor ${name} is missing`, { file, fix: "re-save the network with scalpel (saveMendNetwork / scalpel mend train)" });
    return (await r.readF32(name)).data;
  };
  const nets: MendNetwork["nets"] = {};
  for (const [key, n] of Object.entries(h.nets)) {
    const params: MendNetwork["nets"][string]["params"] = {};
    for (const name of r.names()) {
      const p = `${prefix}net.${key}.layers.`;
      if (name.startsWith(p)) params[name.slice(`${prefix}net.${key}.`.length)] = await r.readF32(name);
    }
    const stats = { uMean: await get(`${prefix}net.${key}.stats.u_mean`), vMean: await get(`${prefix}net.${key}.stats.v_mean`), uS: await get(`${prefix}net.${key}.stats.u_s`), vS: await get(`${prefix}net.${key}.stats.v_s`), k: n.k };
    nets[key] = { xDim: n.xDim, deltaDim: n.deltaDim, nModes: n.nModes, params, stats };
  }
  const editLrs = await get(`${prefix}edit_lrs`);
  if (editLrs.length !== h.innerParams.length) throw new CheckpointError("MEND_FILE_CORRUPT", `edit_lrs has ${editLrs.length} entries for ${h.innerParams.length} inner params`, { file });
  return { config: h.config, innerParams: h.innerParams, shapes: h.shapes, editLrs, nets };
}

/** Refuse pickles (torch .pt/.bin/.pkl archives) before anything parses them. */
async function refusePickle(file: string): Promise<void> {
  let head: Buffer;
  try {
    const fh = await fs.open(file, "r");
    try {
      head = Buffer.alloc(4);
      await fh.read(head, 0, 4, 0);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(code === "ENOENT" ? "MEND_FILE_MISSING" : "MEND_FILE_UNREADABLE", code === "ENOENT" ? "MEND network file not found" : `cannot read the MEND network file (${code ?? String(e)})`, { file, fix: "check the archive path; train a network with `scalpel mend train`" });
  }
  const isPickle = head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5;
  const isZip = head[0] === 0x50 && head[1] === 0x4b; // torch.save's zip container holds a pickle
  if (isPickle || isZip || /\.(pt|pth|pkl|pickle|bin|ckpt)$/i.test(file)) {
    throw new CheckpointError("MEND_PICKLE_REFUSED", "MEND archives in pickle / torch.save format are refused (loading a pickle can run arbitrary code)", { file, fix: "convert the network to safetensors, or train one with `scalpel mend train`" });
  }
}

async function open(file: string): Promise<{ r: SafetensorsReader; meta: Record<string, unknown> }> {
  await refusePickle(file);
  let r: SafetensorsReader;
  try {
    r = await openSafetensorsFile(file);
  } catch (e) {
    throw new CheckpointError("MEND_FILE_CORRUPT", `not a readable safetensors file (${(e as Error).message})`, { file, fix: "re-save the network with scalpel", cause: e });
  }
  const raw = r.metadata?.scalpel_mend;
  let meta: Record<string, unknown> | undefined;
  try {
    meta = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
  } catch {
    meta = undefined;
  }
  if (!meta || meta.format !== FORMAT || meta.version !== 1) {
    await r.close();
    throw new CheckpointError("MEND_FILE_CORRUPT", "the file has no valid scalpel MEND header (__metadata__.scalpel_mend)", { file, fix: "give a network saved by saveMendNetwork / `scalpel mend train`" });
  }
  return { r, meta };
}

/** Save a network atomically; returns the bytes written. */
export async function saveMendNetwork(file: string, net: MendNetwork): Promise<number> {
  const tensors: Record<string, HostTensor> = {};
  const header = netTensors(net, "", tensors);
  return writeSafetensors(file, tensors, { scalpel_mend: JSON.stringify(header) });
}

export async function loadMendNetwork(file: string): Promise<MendNetwork> {
  const { r, meta } = await open(file);
  try {
    return await readNet(r, meta as unknown as NetHeader, "", file);
  } finally {
    await r.close();
  }
}

interface CkptHeader extends NetHeader {
  step: number;
  done: boolean;
  adamT: number;
  lrAdamT: number;
  nAccum: number;
  best: { acc: number; step: number; header: NetHeader } | null;
  history: MendStepLog[];
}

/** A training checkpoint in one safetensors file, saved atomically (MendCheckpointStore). */
export function mendCheckpointFile(file: string): MendCheckpointStore {
  return {
    async save(st: MendTrainState): Promise<void> {
      const tensors: Record<string, HostTensor> = {};
      const h = netTensors(st.net, "", tensors);
      st.adam.m.forEach((m, j) => (tensors[`adam.m.${j}`] = f32(m, [m.length])));
      st.adam.v.forEach((v, j) => (tensors[`adam.v.${j}`] = f32(v, [v.length])));
      st.lrAdam.m.forEach((m, j) => (tensors[`lr_adam.m.${j}`] = f32(m, [m.length])));
      st.lrAdam.v.forEach((v, j) => (tensors[`lr_adam.v.${j}`] = f32(v, [v.length])));
      st.accum.forEach((a, j) => (tensors[`accum.${j}`] = f32(a, [a.length])));
      const best = st.best ? { acc: st.best.acc, step: st.best.step, header: netTensors(st.best.net, "best.", tensors) } : null;
      const header: CkptHeader = { ...h, step: st.step, done: st.done, adamT: st.adam.t, lrAdamT: st.lrAdam.t, nAccum: st.accum.length, best, history: st.history };
      await writeSafetensors(file, tensors, { scalpel_mend: JSON.stringify(header) });
    },
    async load(): Promise<MendTrainState | undefined> {
      try {
        await fs.access(file);
      } catch {
        return undefined;
      }
      const { r, meta } = await open(file);
      try {
        const h = meta as unknown as CkptHeader;
        if (typeof h.step !== "number") throw new CheckpointError("MEND_FILE_CORRUPT", "this MEND file is a network, not a training checkpoint", { file, fix: "give another --checkpoint path" });
        const net = await readNet(r, h, "", file);
        const vec = async (n: string) => (await r.readF32(n)).data;
        const list = async (p: string, n: number) => Promise.all(Array.from({ length: n }, (_, j) => vec(`${p}.${j}`)));
        const nNet = h.nAccum - h.innerParams.length;
        return {
          step: h.step, done: h.done, net,
          adam: { m: await list("adam.m", nNet), v: await list("adam.v", nNet), t: h.adamT },
          lrAdam: { m: await list("lr_adam.m", h.innerParams.length), v: await list("lr_adam.v", h.innerParams.length), t: h.lrAdamT },
          accum: await list("accum", h.nAccum),
          best: h.best ? { acc: h.best.acc, step: h.best.step, net: await readNet(r, h.best.header, "best.", file) } : null,
          history: h.history,
        };
      } finally {
        await r.close();
      }
    },
  };
}
