/**
 * Typed arrays as base64 text (browser-safe: btoa/atob exist in browsers and Node ≥ 16), for
 * JSON documents that must carry exact floats compactly, e.g. an editor's memory in a checkpoint.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  let text = "";
  const CHUNK = 0x8000; // String.fromCharCode takes its arguments on the stack
  for (let i = 0; i < bytes.length; i += CHUNK) text += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(text);
}

export function base64ToBytes(b64: string): Uint8Array {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

export const float64ToBase64 = (x: Float64Array): string => bytesToBase64(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));

export function base64ToFloat64(b64: string): Float64Array {
  const bytes = base64ToBytes(b64);
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
}
