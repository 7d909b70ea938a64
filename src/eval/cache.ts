/**
 * The request cache: a response is stored under a key made of (model hash, patch hash, request),
 * so re-running an evaluation, or resuming a killed one, costs nothing for requests already
 * answered, and a changed model or patch never reads another's answers.
 *
 * The core (this file) is browser-clean: it hashes with Web Crypto and talks to storage through
 * the RequestCache interface. MemoryRequestCache keeps entries in a Map; the Node adapter
 * (io/request-cache-file.ts) persists them in an append-only JSON-lines file.
 */
import type { Patch } from "../model/patch.js";
import { flattenPatch } from "../model/patch.js";
import type { Request, Response } from "./types.js";

export interface RequestCache {
  get(key: string): Response | undefined;
  /** Store answered requests; resolves when they are durable (a resumed run will find them). */
  putMany(entries: readonly (readonly [string, Response])[]): Promise<void>;
}

export class MemoryRequestCache implements RequestCache {
  readonly map = new Map<string, Response>();
  get(key: string): Response | undefined {
    return this.map.get(key);
  }
  async putMany(entries: readonly (readonly [string, Response])[]): Promise<void> {
    for (const [k, v] of entries) this.map.set(k, v);
  }
}

/** JSON with object keys sorted at every level (key order never changes a hash). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

const encoder = new TextEncoder();

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Content hash of a patch: its description and every number it adds (no patch → "none"). */
export async function patchHash(patch: Patch | undefined): Promise<string> {
  if (!patch) return "none";
  const parts: Uint8Array[] = [];
  const flat = flattenPatch(patch);
  parts.push(encoder.encode(canonicalJson({ info: patch.info, type: patch.type })));
  for (const p of flat) {
    if (p.type === "weights") {
      for (const name of Object.keys(p.deltas).sort()) {
        const d = p.deltas[name]!;
        parts.push(encoder.encode(`\0w\0${name}\0${d.shape.join(",")}\0`), new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength));
      }
    } else {
      for (const a of p.additions) {
        parts.push(encoder.encode(`\0a\0${a.hook}\0${a.alpha}\0${a.positions}\0`), new Uint8Array(a.vector.buffer, a.vector.byteOffset, a.vector.byteLength));
      }
    }
  }
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return sha256Hex(all);
}

/** The namespace every key of one (model, patch, scoring options) combination starts from. */
export async function cacheNamespace(modelHash: string, patchHashValue: string, options: Record<string, unknown> = {}): Promise<string> {
  return sha256Hex(canonicalJson({ model: modelHash, patch: patchHashValue, options }));
}

export function requestKey(namespace: string, request: Request): Promise<string> {
  return sha256Hex(`${namespace}\n${canonicalJson(request)}`);
}
