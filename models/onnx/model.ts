// ONNX messages (onnx.proto3 field numbers) built on the protobuf writer: ModelProto, GraphProto,
// NodeProto, AttributeProto, ValueInfoProto, TensorProto. Only what a tree-ensemble graph needs.
import { PbWriter } from "./protobuf.ts";

export const TensorType = { FLOAT: 1, INT64: 7 } as const;
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export type AttrValue =
  | { kind: "float"; v: number }
  | { kind: "int"; v: number }
  | { kind: "string"; v: string }
  | { kind: "floats"; v: number[] }
  | { kind: "ints"; v: number[] }
  | { kind: "strings"; v: string[] };

export interface NodeSpec {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttrValue>;
}

/** A tensor's element type and shape; null dims are symbolic ("N"). */
export interface ValueInfo {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

export interface TensorSpec {
  name: string;
  dataType: number;
  dims: number[];
  floats?: number[];
  int64s?: number[];
}

export interface ModelSpec {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: { name: string; nodes: NodeSpec[]; inputs: ValueInfo[]; outputs: ValueInfo[]; initializers?: TensorSpec[] };
}

function attribute(name: string, a: AttrValue): PbWriter {
  const w = new PbWriter().string(1, name);
  switch (a.kind) {
    case "float": return w.float(2, a.v).int(20, AttrType.FLOAT);
    case "int": return w.int(3, a.v).int(20, AttrType.INT);
    case "string": return w.string(4, a.v).int(20, AttrType.STRING);
    case "floats": a.v.forEach((f) => w.float(7, f)); return w.int(20, AttrType.FLOATS);
    case "ints": a.v.forEach((i) => w.int(8, i)); return w.int(20, AttrType.INTS);
    case "strings": a.v.forEach((s) => w.string(9, s)); return w.int(20, AttrType.STRINGS);
  }
}

function node(n: NodeSpec): PbWriter {
  const w = new PbWriter();
  n.inputs.forEach((i) => w.string(1, i));
  n.outputs.forEach((o) => w.string(2, o));
  w.string(3, n.name).string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes)) w.message(5, attribute(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function valueInfo(v: ValueInfo): PbWriter {
  const shape = new PbWriter();
  for (const d of v.dims) shape.message(1, typeof d === "number" ? new PbWriter().int(1, d) : new PbWriter().string(2, d));
  const tensor = new PbWriter().int(1, v.elemType).message(2, shape);
  return new PbWriter().string(1, v.name).message(2, new PbWriter().message(1, tensor));
}

function tensor(t: TensorSpec): PbWriter {
  const w = new PbWriter();
  t.dims.forEach((d) => w.int(1, d));
  w.int(2, t.dataType);
  if (t.floats) w.packedFloats(4, t.floats);
  if (t.int64s) w.packedInts(7, t.int64s);
  return w.string(8, t.name);
}

export function encodeModel(m: ModelSpec): Uint8Array {
  const g = new PbWriter();
  m.graph.nodes.forEach((n) => g.message(1, node(n)));
  g.string(2, m.graph.name);
  (m.graph.initializers ?? []).forEach((t) => g.message(5, tensor(t)));
  m.graph.inputs.forEach((v) => g.message(11, valueInfo(v)));
  m.graph.outputs.forEach((v) => g.message(12, valueInfo(v)));
  const w = new PbWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, g);
  m.opsets.forEach((o) => w.message(8, new PbWriter().string(1, o.domain).int(2, o.version)));
  return w.finish();
}
