/**
 * The BPE model of tokenizer.json (HF tokenizers/src/models/bpe/model.rs and word.rs).
 *
 * A piece starts as one symbol per character (characters missing from the vocabulary become
 * `<0xNN>` byte tokens under byte_fallback, else the unk token, fused when fuse_unk). Then the
 * adjacent pair with the lowest merge rank is merged, leftmost first on ties, until no pair has a
 * merge — word.rs `merge_all`, which uses a priority queue keyed (rank, position) and skips stale
 * entries; we do the same so a whole unsplit document (Llama has no pre-tokenizer) stays
 * O(n log n).
 */
import { TokenizerError } from "../../errors.js";
import { readVocab, type TokenizerModel, type TokenSink } from "./model.js";

type Json = Record<string, unknown>;

// Heap key rank * 2^32 + position: exact while rank < 2^21.
const POS = 4294967296;
const CACHE_MAX_WORD = 256; // model.rs MAX_LENGTH: longer words are not cached
const CACHE_MAX_ENTRIES = 200_000;
const META = 0x2581; // "▁", SentencePiece's word-start mark
const CHUNK_MIN = 32; // shorter words are not worth splitting

export class BPE implements TokenizerModel {
  readonly size: number;
  private readonly vocab: Map<string, number>;
  private readonly rev: string[];
  private readonly mergeRank: PairMap; // (left id, right id) → rank
  private readonly mergeNew: Int32Array; // rank → merged id
  private readonly unkId: number | undefined;
  private readonly byteIds: Int32Array | null; // byte → id of <0xNN>, or -1
  private readonly charIds = new Map<string, number>(); // per-character lookups, -1 = missing
  // The same for BMP characters without prefix/suffix, by char code: -2 = not looked up yet.
  private readonly bmpIds = new Int32Array(0x10000).fill(-2);
  private readonly cache = new Map<string, Int32Array>();
  private readonly metaChunks: boolean;

  constructor(private readonly spec: Json, file?: string) {
    const v = readVocab((spec.vocab ?? {}) as Record<string, number>);
    this.vocab = v.map;
    this.rev = v.rev;
    this.size = v.size;
    // `dropout` is ignored: it only randomises training-time segmentation; encoding here is the
    // deterministic (dropout-free) segmentation that inference uses.
    const prefix = (spec.continuing_subword_prefix as string | null | undefined) ?? "";
    const merges = (spec.merges ?? []) as (string | [string, string])[];
    this.mergeNew = new Int32Array(merges.length);
    this.mergeRank = new PairMap(merges.length);
    merges.forEach((m, rank) => {
      let a: string, b: string;
      if (typeof m === "string") {
        const sp = m.indexOf(" ");
        if (sp < 0 || m.indexOf(" ", sp + 1) >= 0) throw bad(`merge ${rank} ${JSON.stringify(m)} is not "a b"`, file);
        a = m.slice(0, sp);
        b = m.slice(sp + 1);
      } else {
        [a, b] = m;
      }
      const ia = this.vocab.get(a);
      const ib = this.vocab.get(b);
      const merged = this.vocab.get(a + (prefix && b.startsWith(prefix) ? b.slice(prefix.length) : b));
      if (ia === undefined || ib === undefined || merged === undefined) {
        throw bad(`merge ${rank} (${JSON.stringify(a)}, ${JSON.stringify(b)}) uses a token missing from the vocab`, file);
      }
      // A repeated pair keeps its last rank: model.rs collects the merges into a HashMap.
      this.mergeRank.set(ia, ib, rank);
      this.mergeNew[rank] = merged;
    });
    // Chunking before "▁" is exact only when no merge glues a non-"▁" end to a "▁" start, when
    // "▁" is in the vocabulary (else an unk run could span the cut), and when nothing depends on
    // where the word ends (ignore_merges, prefix, suffix).
    this.metaChunks =
      this.vocab.has("\u2581") &&
      spec.ignore_merges !== true &&
      !prefix &&
      !spec.end_of_word_suffix &&
      merges.every((m) => {
        const [a, b] = typeof m === "string" ? [m.slice(0, m.indexOf(" ")), m.slice(m.indexOf(" ") + 1)] : m;
        return !(b.charCodeAt(0) === META && a.charCodeAt(a.length - 1) !== META);
      });
    const unk = spec.unk_token as string | null | undefined;
    this.unkId = unk == null ? undefined : this.vocab.get(unk);
    if (unk != null && this.unkId === undefined) throw bad(`unk_token ${JSON.stringify(unk)} is not in the vocab`, file);
    if (spec.byte_fallback === true) {
      this.byteIds = new Int32Array(256);
      for (let b = 0; b < 256; b++) this.byteIds[b] = this.vocab.get(byteToken(b)) ?? -1;
    } else {
      this.byteIds = null;
    }
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.rev[id];
  }

  toJSON(): unknown {
    return this.spec;
  }

  tokenize(word: string, out: TokenSink): void {
    if (word.length === 0) return;
    if (this.spec.ignore_merges === true) {
      const id = this.vocab.get(word);
      if (id !== undefined) {
        out.ids.push(id);
        out.starts.push(0);
        out.ends.push(word.length);
        return;
      }
    }
    if (this.metaChunks && word.length > CHUNK_MIN) {
      // Merges never join "x" to a following "▁…" (checked in the constructor), so the word
      // splits before every "▁" that follows another character with no change to the result, and
      // each chunk can come from the cache. This makes Llama-style tokenizers, which have no
      // pre-tokenizer and see a whole document as one word, fast.
      let from = 0;
      for (let i = 1; i <= word.length; i++) {
        if (i === word.length || (word.charCodeAt(i) === META && word.charCodeAt(i - 1) !== META)) {
          this.emit(word.slice(from, i), from, out);
          from = i;
        }
      }
      return;
    }
    this.emit(word, 0, out);
  }

  /** Tokenize `word` (through the cache), shifting offsets by `shift`. */
  private emit(word: string, shift: number, out: TokenSink): void {
    let packed = this.cache.get(word);
    if (packed === undefined) {
      packed = this.mergeWord(word);
      if (word.length < CACHE_MAX_WORD) {
        if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
        this.cache.set(word, packed);
      }
    }
    for (let i = 0; i < packed.length; i += 3) {
      out.ids.push(packed[i]!);
      out.starts.push(packed[i + 1]! + shift);
      out.ends.push(packed[i + 2]! + shift);
    }
  }

  /** Tokenize one word; returns [id, start, end] triples (code units within the word). */
  private mergeWord(w: string): Int32Array {
    const prefix = (this.spec.continuing_subword_prefix as string | null | undefined) ?? null;
    const suffix = (this.spec.end_of_word_suffix as string | null | undefined) ?? null;
    const fuseUnk = this.spec.fuse_unk === true;
    // Initial symbols (model.rs merge_word).
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let unkStart = -1; // pending unk span [unkStart, unkEnd), -1 = none
    let unkEnd = -1;
    const flushUnk = () => {
      if (unkStart >= 0) {
        ids.push(this.unkId!);
        starts.push(unkStart);
        ends.push(unkEnd);
        unkStart = -1;
      }
    };
    const plain = !prefix && !suffix;
    for (let i = 0; i < w.length; ) {
      const code = w.charCodeAt(i);
      const next = code >= 0xd800 && code < 0xdc00 ? w.charCodeAt(i + 1) : 0;
      const width = next >= 0xdc00 && next < 0xe000 ? 2 : 1; // a surrogate pair is one character
      const at = i;
      i += width;
      let id: number;
      let s: string;
      if (plain && width === 1 && this.bmpIds[code] !== -2) {
        id = this.bmpIds[code]!;
        s = "";
      } else {
        s = w.slice(at, i);
        if (at !== 0 && prefix) s = prefix + s;
        if (i >= w.length && suffix) s = s + suffix;
        id = this.lookupChar(s);
        if (plain && width === 1) this.bmpIds[code] = id;
      }
      if (id < 0 && s === "") s = w.slice(at, i);
      if (id >= 0) {
        flushUnk();
        ids.push(id);
        starts.push(at);
        ends.push(i);
        continue;
      }
      if (this.byteIds !== null) {
        const bytes = new TextEncoder().encode(s);
        const bids = Array.from(bytes, (b) => this.byteIds![b]!);
        if (bids.every((b) => b >= 0)) {
          flushUnk();
          // Every byte token of a character reports the whole character's span, as HF's
          // byte→char offset conversion does.
          for (const b of bids) {
            ids.push(b);
            starts.push(at);
            ends.push(i);
          }
          continue;
        }
      }
      if (this.unkId !== undefined) {
        if (unkStart >= 0 && !fuseUnk) flushUnk();
        if (unkStart < 0) unkStart = at;
        unkEnd = i;
      }
      // No unk token: the character is dropped, as model.rs does.
    }
    flushUnk();
    return this.mergeAll(ids, starts, ends);
  }

  private lookupChar(s: string): number {
    let id = this.charIds.get(s);
    if (id === undefined) {
      id = this.vocab.get(s) ?? -1;
      this.charIds.set(s, id);
    }
    return id;
  }

  private mergeAll(ids: number[], starts: number[], ends: number[]): Int32Array {
    const n = ids.length;
    const c = Int32Array.from(ids);
    const end = Int32Array.from(ends);
    const alive = new Uint8Array(n).fill(1);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const heap = new MinHeap();
    for (let i = 0; i + 1 < n; i++) {
      const r = this.mergeRank.get(c[i]!, c[i + 1]!);
      if (r >= 0) heap.push(r * POS + i);
    }
    while (heap.size > 0) {
      const key = heap.pop();
      const rank = Math.floor(key / POS);
      const pos = key - rank * POS;
      if (!alive[pos]) continue;
      const right = next[pos]!;
      if (right < 0) continue;
      // Stale entry: the pair at pos changed since it was queued.
      if (this.mergeRank.get(c[pos]!, c[right]!) !== rank) continue;
      c[pos] = this.mergeNew[rank]!;
      end[pos] = end[right]!;
      alive[right] = 0;
      const after = next[right]!;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      const before = prev[pos]!;
      if (before >= 0) {
        const r = this.mergeRank.get(c[before]!, c[pos]!);
        if (r >= 0) heap.push(r * POS + before);
      }
      if (after >= 0) {
        const r = this.mergeRank.get(c[pos]!, c[after]!);
        if (r >= 0) heap.push(r * POS + pos);
      }
    }
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (alive[i]) out.push(c[i]!, starts[i]!, end[i]!);
    return Int32Array.from(out);
  }
}

/** SentencePiece / HF byte-fallback token name: <0x0A>. */
export function byteToken(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
}

function bad(message: string, file?: string): TokenizerError {
  return new TokenizerError("TOKENIZER_JSON", message, { file, field: "model", fix: "re-export the tokenizer with Hugging Face tokenizers" });
}

/**
 * Open-addressing hash map from an id pair to a rank, in typed arrays: the merge lookup is the
 * hot loop of BPE, and a JS Map keyed by a non-small-integer number is several times slower.
 */
class PairMap {
  private readonly mask: number;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Int32Array;

  constructor(n: number) {
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.mask = cap - 1;
    this.left = new Int32Array(cap).fill(-1);
    this.right = new Int32Array(cap);
    this.value = new Int32Array(cap);
  }

  private slot(a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) & this.mask;
    while (this.left[h] !== -1 && (this.left[h] !== a || this.right[h] !== b)) h = (h + 1) & this.mask;
    return h;
  }

  /** The rank of (a, b), or -1. */
  get(a: number, b: number): number {
    const h = this.slot(a, b);
    return this.left[h] === -1 ? -1 : this.value[h]!;
  }

  set(a: number, b: number, v: number): void {
    const h = this.slot(a, b);
    this.left[h] = a;
    this.right[h] = b;
    this.value[h] = v;
  }
}

/** A binary min-heap of numbers (packed rank/position keys) in a growable Float64Array. */
class MinHeap {
  private a = new Float64Array(64);
  size = 0;
  push(x: number): void {
    if (this.size === this.a.length) {
      const bigger = new Float64Array(this.a.length * 2);
      bigger.set(this.a);
      this.a = bigger;
    }
    const a = this.a;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const n = --this.size;
    if (n > 0) {
      const last = a[n]!;
      let i = 0;
      for (;;) {
        let m = 2 * i + 1;
        if (m >= n) break;
        if (m + 1 < n && a[m + 1]! < a[m]!) m++;
        if (a[m]! >= last) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}
