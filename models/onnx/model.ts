// ONNX messages (onnx.proto3 field numbers) encoded with @bufbuild/protobuf's wire writer:
// ModelProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto, TensorProto. Only what a
// tree-ensemble graph needs; the field numbers are onnx.proto3's.
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

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

type Build = (w: BinaryWriter) => void;

/** A length-delimited field holding a nested message. */
function message(w: BinaryWriter, field: number, build: Build): void {
  w.tag(field, WireType.LengthDelimited).fork();
  build(w);
  w.join();
}

function str(w: BinaryWriter, field: number, v: string): void {
  w.tag(field, WireType.LengthDelimited).string(v);
}

function int(w: BinaryWriter, field: number, v: number): void {
  w.tag(field, WireType.Varint).int64(v);
}

function attribute(name: string, a: AttrValue): Build {
  return (w) => {
    str(w, 1, name);
    switch (a.kind) {
      case "float": w.tag(2, WireType.Bit32).float(a.v); return int(w, 20, AttrType.FLOAT);
      case "int": int(w, 3, a.v); return int(w, 20, AttrType.INT);
      case "string": str(w, 4, a.v); return int(w, 20, AttrType.STRING);
      case "floats": a.v.forEach((f) => w.tag(7, WireType.Bit32).float(f)); return int(w, 20, AttrType.FLOATS);
      case "ints": a.v.forEach((i) => int(w, 8, i)); return int(w, 20, AttrType.INTS);
      case "strings": a.v.forEach((v) => str(w, 9, v)); return int(w, 20, AttrType.STRINGS);
    }
  };
}

function node(n: NodeSpec): Build {
  return (w) => {
    n.inputs.forEach((i) => str(w, 1, i));
    n.outputs.forEach((o) => str(w, 2, o));
    str(w, 3, n.name);
    str(w, 4, n.opType);
    for (const [k, v] of Object.entries(n.attributes)) message(w, 5, attribute(k, v));
    if (n.domain) str(w, 7, n.domain);
  };
}

function valueInfo(v: ValueInfo): Build {
  const shape: Build = (w) => {
    for (const d of v.dims) message(w, 1, (dim) => (typeof d === "number" ? int(dim, 1, d) : str(dim, 2, d)));
  };
  const tensorType: Build = (w) => {
    int(w, 1, v.elemType);
    message(w, 2, shape);
  };
  return (w) => {
    str(w, 1, v.name);
    message(w, 2, (type) => message(type, 1, tensorType));
  };
}

function tensor(t: TensorSpec): Build {
  return (w) => {
    t.dims.forEach((d) => int(w, 1, d));
    int(w, 2, t.dataType);
    // Repeated scalars are packed (proto3's default).
    if (t.floats) message(w, 4, (p) => t.floats!.forEach((f) => p.float(f)));
    if (t.int64s) message(w, 7, (p) => t.int64s!.forEach((i) => p.int64(i)));
    str(w, 8, t.name);
  };
}

export function encodeModel(m: ModelSpec): Uint8Array {
  const w = new BinaryWriter();
  int(w, 1, m.irVersion);
  str(w, 2, m.producerName);
  str(w, 3, m.producerVersion);
  if (m.docString) str(w, 6, m.docString);
  message(w, 7, (g) => {
    m.graph.nodes.forEach((n) => message(g, 1, node(n)));
    str(g, 2, m.graph.name);
    (m.graph.initializers ?? []).forEach((t) => message(g, 5, tensor(t)));
    m.graph.inputs.forEach((v) => message(g, 11, valueInfo(v)));
    m.graph.outputs.forEach((v) => message(g, 12, valueInfo(v)));
  });
  m.opsets.forEach((o) => message(w, 8, (op) => {
    str(op, 1, o.domain);
    int(op, 2, o.version);
  }));
  return w.finish();
}
