/**
 * PEFT LoRA adapter directories on disk (Node): adapter_config.json + adapter_model.safetensors,
 * as PEFT's `save_pretrained` writes them and `PeftModel.from_pretrained` reads them
 * (src/peft/peft_model.py, src/peft/utils/save_and_load.py). The mapping is train/peft-format.ts.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { CheckpointError } from "../errors.js";
import type { HostTensor } from "../io/host-tensor.js";
import { readJsonFile, writeJsonFile } from "../io/json.js";
import { openSafetensorsFile, writeSafetensors } from "../io/safetensors-file.js";
import type { LoraAdapter } from "../model/modules/lora.js";
import type { ModelConfig } from "../model/types.js";
import { adapterFromPeft, adapterToPeft, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type PeftSaveOptions, type PeftTensor } from "./peft-format.js";

/**
 * Write `adapter` (for a model of `config`) into `dir` in PEFT's format. Each file is written
 * atomically (temporary sibling, fsync, rename), the weights first, then the config.
 */
export async function savePeftAdapter(dir: string, adapter: LoraAdapter, config: ModelConfig, options: PeftSaveOptions = {}): Promise<void> {
  const { config: peftConfig, tensors } = adapterToPeft(adapter, config, options);
  const host: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(tensors)) host[k] = { dtype: "float32", shape: t.shape, data: t.data };
  await fs.mkdir(dir, { recursive: true });
  // PeftModel.save_pretrained: safe_save_file(output_state_dict, …, metadata={"format": "pt"}).
  await writeSafetensors(path.join(dir, PEFT_WEIGHTS_FILE), host, { format: "pt" });
  await writeJsonFile(path.join(dir, PEFT_CONFIG_FILE), peftConfig);
}

/** Read the PEFT LoRA adapter in `dir` for a model of `config`. */
export async function loadPeftAdapter(dir: string, config: ModelConfig): Promise<LoraAdapter> {
  const cfgFile = path.join(dir, PEFT_CONFIG_FILE);
  const wFile = path.join(dir, PEFT_WEIGHTS_FILE);
  const raw = await readJsonFile(cfgFile, { what: "the PEFT adapter config (adapter_config.json)" });
  let reader;
  try {
    reader = await openSafetensorsFile(wFile);
  } catch (e) {
    if (e instanceof CheckpointError && e.code === "SAFETENSORS_FILE_MISSING") {
      const bin = await fs.stat(path.join(dir, "adapter_model.bin")).then(() => true, () => false);
      if (bin) {
        throw new CheckpointError("PEFT_PICKLE", "the adapter is stored as adapter_model.bin (a pickle), which scalpel does not execute", {
          file: wFile,
          fix: "re-save it in PEFT with save_pretrained(..., safe_serialization=True) to get adapter_model.safetensors",
          cause: e,
        });
      }
    }
    throw e;
  }
  const tensors: Record<string, PeftTensor> = {};
  try {
    for (const name of reader.names()) {
      const t = await reader.readF32(name);
      tensors[name] = { shape: t.shape, data: t.data };
    }
  } finally {
    await reader.close();
  }
  return adapterFromPeft(raw, tensors, config, { config: cfgFile, weights: wFile });
}
