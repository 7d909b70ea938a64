/**
 * Reading NumPy .npz archives (numpy.savez / savez_compressed) from bytes, without pickle.
 * Browser-safe: the ZIP container is zip.ts, each member array is npy.ts (NEP 1). Members must be
 * `<name>.npy`; numpy names a member by its keyword (or `arr_<i>`) plus ".npy", and `np.load`
 * strips the suffix, so the returned keys are what Python code calls them. Anything else in the
 * archive (a pickled member, a stray file) is refused rather than skipped, so nothing in the file
 * is silently ignored. Node file access: npz-node.ts.
 */
import { CheckpointError } from "../errors.js";
import type { HostTensor } from "./host-tensor.js";
import { decodeNpy } from "./npy.js";
import { listZip, readZipMember } from "./zip.js";

/** Every array in an .npz, keyed by name without ".npy". `file` labels error messages. */
export async function readNpz(bytes: Uint8Array, file: string): Promise<Record<string, HostTensor>> {
  const out: Record<string, HostTensor> = Object.create(null);
  for (const m of listZip(bytes, file)) {
    if (!m.name.endsWith(".npy")) {
      throw new CheckpointError("NPZ_MEMBER", `member ${m.name} is not a .npy array`, {
        file,
        field: m.name,
        fix: "an .npz must hold only arrays saved by numpy.savez; re-save the arrays you need",
      });
    }
    const key = m.name.slice(0, -4);
    out[key] = decodeNpy(await readZipMember(bytes, m, file), { file, member: m.name });
  }
  return out;
}
