/**
 * An edit stream's checkpoint (edit/protocol.ts StreamCheckpoint) in a stage's checkpoint folder:
 * the patches as patch files, the rest as JSON. Shared by the kinds that run edit streams (edit,
 * eval's sequential edit), so a killed stream resumes after its last finished editor call.
 */
import path from "node:path";
import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import type { StreamProgress } from "../../edit/protocol.js";
import type { Patch } from "../../model/patch.js";
import type { StageContext } from "./types.js";

const patchFiles = () => import("../../model/patch-file.js");

export function streamCheckpoint(ctx: StageContext<unknown>, onResume: (edits: number) => void) {
  const file = (name: string) => path.join(ctx.checkpoint.dir, name);
  type Saved = Omit<StreamProgress, "patches"> & { files: string[] };
  return {
    async load(): Promise<StreamProgress | undefined> {
      const saved = await ctx.checkpoint.read<Saved>();
      if (!saved) return undefined;
      const { loadPatch } = await patchFiles();
      const patches: Patch[] = [];
      for (const f of saved.files) patches.push(await loadPatch(file(f)));
      onResume(saved.applied);
      const { files: _files, ...rest } = saved;
      return { ...rest, patches };
    },
    async save(p: StreamProgress): Promise<void> {
      // Patch files first (each written once, atomically), then the state that names them. A
      // "compose" stream has one file per editor call; a "memory" editor's single patch is its
      // whole memory, written under the call count so the state never names a newer memory.
      const { savePatch } = await patchFiles();
      const memory = p.patches.length !== p.groupsDone;
      const files = memory ? [`memory-${p.groupsDone}.safetensors`] : p.patches.map((_, i) => `step-${i}.safetensors`);
      for (let i = 0; i < files.length; i++) if (!existsSync(file(files[i]!))) await savePatch(file(files[i]!), p.patches[i]!);
      const { patches: _patches, ...rest } = p;
      await ctx.checkpoint.write({ ...rest, files });
      if (memory) for (const f of await readdir(ctx.checkpoint.dir)) if (f.startsWith("memory-") && f !== files[0]) await rm(file(f), { force: true });
    },
  };
}
