/** Building an ONNX graph node by node: unique value names, small constants as initializers. Browser-safe. */
import type { AttrValue, OnnxDtype, OnnxGraph, OnnxValueInfo } from "./onnx-proto.js";

export class GraphBuilder {
  readonly graph: OnnxGraph;
  private count = 0;
  private scalars = new Map<string, string>();

  constructor(name: string) {
    this.graph = { name, nodes: [], initializers: [], inputs: [], outputs: [] };
  }

  input(name: string, dtype: OnnxDtype, shape: OnnxValueInfo["shape"]): string {
    this.graph.inputs.push({ name, dtype, shape });
    return name;
  }

  output(value: string, name: string, dtype: OnnxDtype, shape: OnnxValueInfo["shape"]): void {
    // An Identity gives the output its own stable name, whatever node computed the value.
    this.graph.nodes.push({ op: "Identity", inputs: [value], outputs: [name], name: `out_${this.count++}` });
    this.graph.outputs.push({ name, dtype, shape });
  }

  /** Cast to float32 (ONNX TensorProto FLOAT = 1). */
  toFloat = (x: string) => this.op("Cast", [x], { to: { i: 1 } });

  /** An int64 initializer (shapes, axes, slice bounds), shared by value. */
  ints(values: number[]): string {
    return this.shared(`i64:${values.join(",")}`, () => {
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      return { dtype: "int64" as const, dims: [values.length], bytes: new Uint8Array(data.buffer) };
    });
  }

  /** A float32 scalar constant, shared by value (Math.fround'ed as jax-js would hold it). */
  scalar(v: number): string {
    return this.shared(`f32:${Math.fround(v)}`, () => ({ dtype: "float" as const, dims: [], bytes: new Uint8Array(Float32Array.of(v).buffer) }));
  }

  private shared(key: string, make: () => { dtype: OnnxDtype; dims: number[]; bytes: Uint8Array }): string {
    let name = this.scalars.get(key);
    if (!name) {
      name = `c${this.scalars.size}`;
      this.graph.initializers.push({ name, ...make() });
      this.scalars.set(key, name);
    }
    return name;
  }

  /** One node with one output; returns the output's name. */
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    const out = `v${this.count++}`;
    this.graph.nodes.push({ op, inputs, outputs: [out], name: `${op}_${this.count}`, ...(attrs ? { attrs } : {}) });
    return out;
  }

  // The few compound operations the forward uses, each one or two nodes.
  add = (a: string, b: string) => this.op("Add", [a, b]);
  sub = (a: string, b: string) => this.op("Sub", [a, b]);
  mul = (a: string, b: string) => this.op("Mul", [a, b]);
  div = (a: string, b: string) => this.op("Div", [a, b]);
  matmul = (a: string, b: string) => this.op("MatMul", [a, b]);
  reshape = (x: string, shape: number[]) => this.op("Reshape", [x, this.ints(shape)]);
  transpose = (x: string, perm: number[]) => this.op("Transpose", [x], { perm: { ints: perm } });
  /** x[..., from:to] along `axis`. */
  slice = (x: string, axis: number, from: number, to: number) => this.op("Slice", [x, this.ints([from]), this.ints([to]), this.ints([axis])]);
  concat = (xs: string[], axis: number) => this.op("Concat", xs, { axis: { i: axis } });
  unsqueeze = (x: string, axis: number) => this.op("Unsqueeze", [x, this.ints([axis])]);
}
