/**
 * Mapping a URL path onto a file under a served root, refusing anything that could leave it:
 * "..", "." and empty segments, encoded separators ("%2F", "%5C"), NUL bytes, malformed percent
 * escapes, hidden names (".git", ".env"), and symbolic links whose target lies outside the root.
 * The lab serves a model folder to the page; nothing else on the disk may be reachable through it.
 */
import { promises as fs } from "node:fs";
import path from "node:path";

/** The real file for `urlPath` (as received: percent-encoded, "/"-separated) under `root`, or null when refused or absent. */
export async function resolveInside(root: string, urlPath: string): Promise<string | null> {
  const segments = safeSegments(urlPath);
  if (!segments) return null;
  const realRoot = await fs.realpath(root);
  let real: string;
  try {
    real = await fs.realpath(path.join(realRoot, ...segments));
  } catch {
    return null;
  }
  if (!real.startsWith(realRoot + path.sep)) return null;
  const stat = await fs.stat(real);
  return stat.isFile() ? real : null;
}

/** The decoded segments of a relative URL path, or null when any is unsafe. */
export function safeSegments(urlPath: string): string[] | null {
  const raw = urlPath.split("/");
  const out: string[] = [];
  for (const [i, seg] of raw.entries()) {
    if (seg === "" && (i === 0 || i === raw.length - 1)) continue; // a leading or trailing "/"
    let s: string;
    try {
      s = decodeURIComponent(seg);
    } catch {
      return null;
    }
    if (s === "" || s.startsWith(".") || /[/\\\0]/.test(s) || /^[a-zA-Z]:/.test(s)) return null;
    out.push(s);
  }
  return out.length ? out : null;
}

/** Every servable file under `root` (relative "/"-paths; hidden entries and symlinks left out), at most `limit`. */
export async function listFiles(root: string, limit = 2000): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (out.length >= limit || e.name.startsWith(".")) continue;
      if (e.isDirectory()) await walk(path.join(dir, e.name), `${prefix}${e.name}/`);
      else if (e.isFile()) out.push(prefix + e.name);
    }
  }
  await walk(root, "");
  return out;
}
