/**
 * The request cache: a response is stored under a key made of (model hash, patch hash, request),
 * so re-running an evaluation, or resuming a killed one, costs nothing for requests already
 * answered, and a changed model or patch never reads another's answers.
 *
 * The patch hash is model/patch-hash.ts's, the one every patched-model cache keys on.
 *
 * The core (this file) is browser-clean: it hashes with Web Crypto and talks to storage through
 * the RequestCache interface. MemoryRequestCache keeps entries in a Map; the Node adapter
 * (eval/request-cache-node.ts) persists them in an append-only JSON-lines file.
 */
import { canonicalJson, sha256Hex } from "../util/hash.js";
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


/** The namespace every key of one (model, patch, scoring options) combination starts from. */
export async function cacheNamespace(modelHash: string, patchHashValue: string, options: Record<string, unknown> = {}): Promise<string> {
  return sha256Hex(canonicalJson({ model: modelHash, patch: patchHashValue, options }));
}

export function requestKey(namespace: string, request: Request): Promise<string> {
  return sha256Hex(`${namespace}\n${canonicalJson(request)}`);
}
