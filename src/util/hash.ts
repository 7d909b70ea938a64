/**
 * Content hashing shared by every layer: canonical JSON (object keys sorted at every level, so key
 * order never changes a hash) and SHA-256 through Web Crypto (Node 20 and browsers alike).
 */

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

/** Hex SHA-256 of a string, bytes, or the concatenation of several byte arrays. */
export async function sha256Hex(data: string | Uint8Array | readonly Uint8Array[]): Promise<string> {
  let bytes: Uint8Array;
  if (typeof data === "string") bytes = encoder.encode(data);
  else if (data instanceof Uint8Array) bytes = data;
  else {
    bytes = new Uint8Array(data.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of data) {
      bytes.set(p, o);
      o += p.length;
    }
  }
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
