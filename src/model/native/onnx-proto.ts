/**
 * ONNX ModelProto bytes, written by hand: a protobuf encoder for the few messages a forward graph
 * needs (field numbers from onnx/onnx.proto, IR version 8). No dependency, browser-safe.
 *
 *   ModelProto        1 ir_version, 2 producer_name, 7 graph, 8 opset_import
 *   OperatorSetId     1 domain, 2 version
 *   GraphProto        1 node, 2 name, 5 initializer, 11 input, 12 output
 *   NodeProto         1 input, 2 output, 3 name, 4 op_type, 5 attribute
 *   AttributeProto    1 name, 2 f, 3 i, 8 ints, 20 type (FLOAT 1, INT 2, INTS 7)
 *   TensorProto       1 dims, 2 data_type, 8 name, 9 raw_data (little-endian)
 *   ValueInfoProto    1 name, 2 type → TypeProto 1 tensor_type → 1 elem_type, 2 shape → 1 dim → 1 dim_value | 2 dim_param
 */

export const DTYPE = { float: 1, int32: 6, int64: 7, float16: 10 } as const;
export type OnnxDtype = keyof typeof DTYPE;

export type AttrValue = { f: number } | { i: number } | { ints: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs?: Record<string, AttrValue>;
}

export interface OnnxTensor {
  name: string;
  dtype: OnnxDtype;
  dims: number[];
  /** Little-endian element bytes. */
  bytes: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDtype;
  /** A number is a fixed size, a string a symbolic one ("batch"). */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** A growable byte buffer with protobuf's wire encodings. */
class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    this.flush();
    if (k > this.buf.length) this.buf = new Uint8Array(Math.max(k, this.buf.length * 2));
  }

  private flush(): void {
    if (this.n) this.chunks.push(this.buf.slice(0, this.n));
    this.n = 0;
  }

  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    this.room(10);
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      this.buf[this.n++] = byte;
    } while (x);
    return this;
  }

  tag(field: number, wire: 0 | 2 | 5): this {
    return this.varint((field << 3) | wire);
  }

  raw(bytes: Uint8Array): this {
    if (bytes.length > 4096) {
      this.flush();
      this.chunks.push(bytes);
    } else {
      this.room(bytes.length);
      this.buf.set(bytes, this.n);
      this.n += bytes.length;
    }
    return this;
  }

  /** A length-delimited field: bytes, a string or an embedded message. */
  bytes(field: number, value: Uint8Array | string | Writer): this {
    if (value instanceof Writer) {
      const parts = value.finish();
      this.tag(field, 2).varint(parts.reduce((s, p) => s + p.length, 0));
      for (const p of parts) this.raw(p);
      return this;
    }
    const b = typeof value === "string" ? new TextEncoder().encode(value) : value;
    return this.tag(field, 2).varint(b.length).raw(b);
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.tag(field, 5).raw(b);
  }

  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

function attribute(name: string, v: AttrValue): Writer {
  const w = new Writer().bytes(1, name);
  if ("f" in v) return w.float(2, v.f).int(20, 1);
  if ("i" in v) return w.int(3, v.i).int(20, 2);
  for (const x of v.ints) w.int(8, x);
  return w.int(20, 7);
}

function node(n: OnnxNode): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.bytes(1, i);
  for (const o of n.outputs) w.bytes(2, o);
  w.bytes(3, n.name).bytes(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.bytes(5, attribute(k, v));
  return w;
}

function tensor(t: OnnxTensor): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  return w.int(2, DTYPE[t.dtype]).bytes(8, t.name).bytes(9, t.bytes);
}

function valueInfo(v: OnnxValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.shape) shape.bytes(1, typeof d === "number" ? new Writer().int(1, d) : new Writer().bytes(2, d));
  const tensorType = new Writer().int(1, DTYPE[v.dtype]).bytes(2, shape);
  return new Writer().bytes(1, v.name).bytes(2, new Writer().bytes(1, tensorType));
}

/** The serialised model (opset 17: LayerNormalization is a standard op from there). */
export function encodeModel(g: OnnxGraph, producer = "scalpel"): Uint8Array {
  const graph = new Writer();
  for (const n of g.nodes) graph.bytes(1, node(n));
  graph.bytes(2, g.name);
  for (const t of g.initializers) graph.bytes(5, tensor(t));
  for (const i of g.inputs) graph.bytes(11, valueInfo(i));
  for (const o of g.outputs) graph.bytes(12, valueInfo(o));
  const model = new Writer().int(1, 8).bytes(2, producer).bytes(7, graph).bytes(8, new Writer().bytes(1, "").int(2, 17));
  const parts = model.finish();
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
