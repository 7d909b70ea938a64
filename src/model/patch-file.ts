/**
 * Patches on disk (Node): the format of patch-bytes.ts — one safetensors file whose
 * `__metadata__.scalpel_patch` describes the patch — written streaming and atomically, and read
 * lazily tensor by tensor (a large module patch is never held twice).
 */
import { openSafetensorsFile, writeSafetensors } from "../io/safetensors-file.js";
import { encodePatch, readPatch } from "./patch-bytes.js";
import type { Patch } from "./patch.js";

export async function savePatch(file: string, patch: Patch): Promise<void> {
  const { tensors, metadata } = encodePatch(patch);
  await writeSafetensors(file, tensors, metadata);
}

export async function loadPatch(file: string): Promise<Patch> {
  return readPatch(await openSafetensorsFile(file));
}
