/**
 * Loading a Hugging Face checkpoint in the page from any file getter: the lab's /model/ folder
 * (fetch) or a folder the user drops on the page (File objects). config.json + tokenizer.json
 * (+ tokenizer_config.json) + model.safetensors or a sharded set with model.safetensors.index.json,
 * parsed by the same readers as `loadModel` in Node.
 */
import {
  CheckpointError,
  loadModelFrom,
  memoryByteSource,
  openSafetensors,
  parseJsonDocument,
  parseShardIndex,
  SHARD_INDEX_NAME,
  tokenizerFromJSON,
  type Model,
  type SafetensorsReader,
} from "../../browser.js";

/** Returns a file's bytes by its path relative to the checkpoint folder, or undefined when absent. */
export type FileGetter = (name: string) => Promise<Uint8Array | undefined>;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function required(get: FileGetter, name: string, label: string): Promise<Uint8Array> {
  const bytes = await get(name);
  if (!bytes) throw new CheckpointError("CHECKPOINT_FILE_MISSING", `the checkpoint has no ${name}`, { file: `${label}/${name}`, fix: "give a folder holding config.json, tokenizer.json and model.safetensors (or its shards)" });
  return bytes;
}

/** The checkpoint's tensor readers: one model.safetensors, or every shard its index names. */
async function openTensors(get: FileGetter, label: string): Promise<SafetensorsReader[]> {
  const index = await get(SHARD_INDEX_NAME);
  const files = index ? parseShardIndex(text(index), `${label}/${SHARD_INDEX_NAME}`).shards : ["model.safetensors"];
  return Promise.all(files.map(async (f) => openSafetensors(memoryByteSource(await required(get, f, label)), `${label}/${f}`)));
}

export async function loadModelFromFiles(get: FileGetter, label: string): Promise<Model> {
  const configJson = parseJsonDocument(text(await required(get, "config.json", label)), `${label}/config.json`) as Record<string, unknown>;
  const tokConfigBytes = await get("tokenizer_config.json");
  const tokenizer = tokenizerFromJSON(text(await required(get, "tokenizer.json", label)), {
    file: `${label}/tokenizer.json`,
    ...(tokConfigBytes ? { config: parseJsonDocument(text(tokConfigBytes), `${label}/tokenizer_config.json`) as Record<string, unknown> } : {}),
  });
  const readers = await openTensors(get, label);
  const owner = (name: string) => readers.find((r) => r.has(name));
  try {
    return await loadModelFrom(
      configJson,
      {
        names: () => readers.flatMap((r) => r.names()),
        has: (n) => owner(n) !== undefined,
        get: (n) => owner(n)!.readF32(n),
      },
      tokenizer,
      `${label}/config.json`,
    );
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
}

/** A getter over the lab server's /model/ folder, whose file list the server gave (so absent files cost no request). */
export function fetchGetter(base: string, files: readonly string[]): FileGetter {
  return async (name) => {
    if (!files.includes(name)) return undefined;
    const res = await fetch(`${base}/${name.split("/").map(encodeURIComponent).join("/")}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new CheckpointError("CHECKPOINT_FETCH", `fetching ${name} failed: HTTP ${res.status}`, { file: `${base}/${name}`, fix: "check the lab server's log" });
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** A getter over files the user dropped or picked, by their paths relative to the checkpoint folder. */
export function filesGetter(files: ReadonlyMap<string, File>): FileGetter {
  return async (name) => {
    const f = files.get(name);
    return f ? new Uint8Array(await f.arrayBuffer()) : undefined;
  };
}

/** Files picked with <input webkitdirectory>: "folder/sub/file" → "sub/file". */
export function pickedFiles(list: readonly File[]): Map<string, File> {
  return new Map(list.map((f) => [f.webkitRelativePath.split("/").slice(1).join("/") || f.name, f]));
}

/** Files of a folder (or loose files) dropped on the page, walked through the entries API. */
export async function droppedFiles(items: DataTransferItemList): Promise<{ label: string; files: Map<string, File> }> {
  const entries = [...items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  const files = new Map<string, File>();
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) files.set(prefix + entry.name, await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail)));
    else for (const child of await children(entry as FileSystemDirectoryEntry)) await walk(child, `${prefix}${entry.name}/`);
  };
  // One folder dropped: it is the checkpoint, so its children sit at the root.
  const folder = entries.length === 1 && entries[0]!.isDirectory ? (entries[0] as FileSystemDirectoryEntry) : undefined;
  for (const e of folder ? await children(folder) : entries) await walk(e, "");
  return { label: folder?.name ?? "dropped files", files };
}

/** All entries of a folder: readEntries returns them in batches, an empty batch ends it. */
async function children(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}
