/**
 * Decoding one NumPy .npy array without executing anything. Browser-safe.
 *
 * Format (NEP 1, https://numpy.org/neps/nep-0001-npy-format.html, and numpy/lib/format.py):
 * magic "\x93NUMPY", major and minor version bytes, a little-endian header length (u16 for 1.0,
 * u32 for 2.0/3.0), then the header: a Python literal dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (16, 32), }` padded with spaces and a newline
 * (latin-1 in 1.0/2.0, UTF-8 in 3.0), then the raw data. numpy reads the header with
 * `ast.literal_eval`; here a small strict parser accepts only the grammar numpy writes (strings,
 * True/False, integers, tuples, exactly the three keys), so no header can run code or smuggle in
 * a structured dtype.
 *
 * Object arrays ('|O') are stored as a pickle after the header; unpickling executes arbitrary code,
 * so they are refused outright (numpy itself does so unless `allow_pickle=True`).
 */
import { CheckpointError } from "../errors.js";
import type { HostTensor } from "./host-tensor.js";
import { HOST_ARRAY, numel } from "./host-tensor.js";
import { SAFETENSORS_DTYPES, decodeTensor, type SafetensorsDtype } from "./safetensors-dtypes.js";

/** NumPy type codes (after the byte-order character) and the safetensors dtype with the same bytes. */
const NPY_DTYPES: Record<string, SafetensorsDtype> = {
  f2: "F16",
  f4: "F32",
  f8: "F64",
  i1: "I8",
  i2: "I16",
  i4: "I32",
  i8: "I64",
  u1: "U8",
  u2: "U16",
  u4: "U32",
  b1: "BOOL",
};

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Where an array came from: the archive and, inside an .npz, the member. */
export interface NpyLabel {
  file: string;
  member?: string;
}

const where = (at: NpyLabel) => (at.member ? `member ${at.member}: ` : "");
const RESAVE = "re-save the array with numpy.save / numpy.savez from a plain numeric array (e.g. np.asarray(x, dtype=np.float32))";

function fail(code: string, message: string, at: NpyLabel, fix = RESAVE): never {
  throw new CheckpointError(code, `${where(at)}${message}`, { file: at.file, field: at.member, fix });
}

/** Parse the header dict text. Exported for tests. */
export function parseNpyHeader(text: string, at: NpyLabel): NpyHeader {
  let i = 0;
  const bad = (why: string): never => fail("NPY_HEADER", `bad .npy header (${why} at character ${i}): ${JSON.stringify(text.slice(0, 200))}`, at);
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\t" || text[i] === "\r")) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) bad(`expected ${JSON.stringify(c)}`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') bad("expected a string");
    const close = text.indexOf(q!, i + 1);
    if (close < 0) bad("unterminated string");
    const s = text.slice(i + 1, close);
    // numpy never writes escapes; refusing them keeps the parser trivially correct.
    if (s.includes("\\") || s.includes("\n")) bad("escape in string");
    i = close + 1;
    return s;
  };
  const int = (): number => {
    ws();
    const m = /^[0-9]+/.exec(text.slice(i));
    if (!m) bad("expected a non-negative integer");
    i += m![0].length;
    const n = Number(m![0]);
    if (!Number.isSafeInteger(n)) bad("dimension too large");
    return n;
  };
  const value = (key: string): string | boolean | number[] => {
    ws();
    if (text.startsWith("True", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("False", i)) {
      i += 5;
      return false;
    }
    if (text[i] === "'" || text[i] === '"') return str();
    if (text[i] === "[") {
      // A list descr is a structured dtype (record array); those can hold objects and are not tensors.
      fail("NPY_DTYPE", `structured dtype in ${key} is not supported`, at);
    }
    if (text[i] !== "(") bad(`unexpected value for ${key}`);
    i++;
    const dims: number[] = [];
    for (;;) {
      ws();
      if (text[i] === ")") break;
      dims.push(int());
      ws();
      if (text[i] === ",") i++;
      else if (text[i] !== ")") bad("expected ',' or ')' in shape");
    }
    i++;
    // "(16)" is an int, not a tuple, in Python: numpy always writes "(16,)".
    if (dims.length === 1 && !/,\s*\)$/.test(text.slice(0, i))) bad("a one-element shape needs a trailing comma");
    return dims;
  };

  const entries = new Map<string, string | boolean | number[]>();
  expect("{");
  for (;;) {
    ws();
    if (text[i] === "}") break;
    const key = str();
    if (entries.has(key)) bad(`duplicate key ${key}`);
    expect(":");
    entries.set(key, value(key));
    ws();
    if (text[i] === ",") i++;
    else if (text[i] !== "}") bad("expected ',' or '}'");
  }
  i++;
  ws();
  if (i !== text.length) bad("text after the dict");

  const keys = [...entries.keys()].sort().join();
  if (keys !== "descr,fortran_order,shape") bad(`keys must be exactly descr, fortran_order, shape (got ${keys})`);
  const descr = entries.get("descr");
  const fortranOrder = entries.get("fortran_order");
  const shape = entries.get("shape");
  if (typeof descr !== "string") bad("descr must be a string");
  if (typeof fortranOrder !== "boolean") bad("fortran_order must be True or False");
  if (!Array.isArray(shape)) bad("shape must be a tuple");
  return { descr: descr as string, fortranOrder: fortranOrder as boolean, shape: shape as number[] };
}

/** The safetensors-equivalent dtype of a descr, refusing objects, big-endian data and the rest. */
function dtypeOf(descr: string, at: NpyLabel): SafetensorsDtype {
  if (descr.includes("O")) {
    fail("NPY_OBJECT", `object array (dtype ${JSON.stringify(descr)}) refused: its data is a Python pickle, and loading a pickle can run arbitrary code`, at,
      "convert the array to a numeric dtype in Python (np.asarray(x, dtype=np.float32)) and save it again; never load pickles from untrusted sources");
  }
  const order = descr[0];
  const code = NPY_DTYPES[descr.slice(1)];
  if (order === ">" && code && SAFETENSORS_DTYPES[code] > 1) {
    fail("NPY_BIG_ENDIAN", `big-endian dtype ${descr} is not supported`, at, "convert in Python with x.astype(x.dtype.newbyteorder('<')) and save again");
  }
  // '|' = byte order not applicable, '=' = native (little-endian on every platform numpy ships for).
  if (!code || !(order === "<" || order === "|" || order === "=" || (order === ">" && SAFETENSORS_DTYPES[code] === 1))) {
    fail("NPY_DTYPE", `dtype ${JSON.stringify(descr)} is not supported (supported: ${Object.keys(NPY_DTYPES).map((c) => `<${c}`).join(", ")})`, at);
  }
  return code;
}

/** Decode a whole .npy file. f2 becomes float32, i8/u8-style 64-bit ints int32 where every value fits. */
export function decodeNpy(bytes: Uint8Array, at: NpyLabel): HostTensor {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
  if (bytes.byteLength < 10 || magic.some((b, k) => bytes[k] !== b)) {
    if (bytes[0] === 0x80) fail("NPY_PICKLE", "is a Python pickle, not a .npy array; pickles can run arbitrary code and are never loaded", at,
      "save plain arrays with numpy.savez (not pickle.dump / torch.save)");
    fail("NPY_MAGIC", "is not a .npy array (bad magic bytes)", at);
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail("NPY_VERSION", `.npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0, 3.0 are)`, at);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.byteLength < 8 + lenBytes) fail("NPY_TRUNCATED", "ends inside its header", at);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.byteLength) fail("NPY_TRUNCATED", `header of ${headerLen} bytes runs past the end of the ${bytes.byteLength}-byte array`, at);
  const headerBytes = bytes.subarray(8 + lenBytes, dataStart);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);
  const header = parseNpyHeader(text, at);
  const dtype = dtypeOf(header.descr, at);

  const size = SAFETENSORS_DTYPES[dtype];
  const n = numel(header.shape);
  const want = n * size;
  if (!Number.isSafeInteger(want)) fail("NPY_SHAPE", `shape (${header.shape}) overflows`, at);
  const got = bytes.byteLength - dataStart;
  if (got !== want) {
    fail("NPY_LENGTH", `shape (${header.shape.join(", ")}) of ${header.descr} needs ${want} data bytes but ${got} follow the header${got < want ? " (truncated?)" : ""}`, at);
  }
  // A fresh array, owned and aligned at 0 (not .slice(): on a Node Buffer that is a view).
  const data = new Uint8Array(bytes.subarray(dataStart));
  const t = decodeTensor(dtype, [...header.shape], data, { file: at.file, name: at.member ?? "array" });
  return header.fortranOrder ? toRowMajor(t) : t;
}

/** Fortran (column-major) data → row-major data of the same shape. */
function toRowMajor(t: HostTensor): HostTensor {
  const shape = t.shape;
  if (shape.length < 2) return t;
  const src = t.data;
  const out = new HOST_ARRAY[t.dtype](src.length);
  // Column-major strides: the first axis varies fastest.
  const colStride: number[] = [];
  let s = 1;
  for (const d of shape) {
    colStride.push(s);
    s *= d;
  }
  const idx = new Array<number>(shape.length).fill(0);
  let from = 0;
  for (let k = 0; k < out.length; k++) {
    out[k] = src[from]!;
    // Advance the row-major multi-index (last axis fastest), keeping `from` in step.
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      idx[ax]!++;
      from += colStride[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      from -= colStride[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
  return { dtype: t.dtype, shape, data: out } as HostTensor;
}
