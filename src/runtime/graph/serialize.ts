// Graph -> ONNX ModelProto bytes. protobufjs encodes the structure; the initializers' raw
// bytes are framed by hand (tag + length + bytes, which protobuf allows in any field order)
// and copied once, straight from their typed arrays, into the single output buffer: pushing
// half a gigabyte through protobufjs' writer costs seconds. A ModelProto is limited to 2 GiB
// (a SmolLM2-135M-sized float32 model, ~540 MB, fits comfortably); larger graphs are written
// to disk with their weights in ONNX external data (writeModelWithExternalData).
import { FLOAT_ATTRIBUTES, ONNX_DTYPE_CODE, type AttrValue, type Graph, type GraphNode, type Value } from './graph';
import { GraphProto, ModelProto, OnnxAttributeType, TensorProto } from './onnxProto';
import { UnsupportedError } from '../errors';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

// Opset 21 for blocked DequantizeLinear and uint4 tensors (quantized weights), which need IR
// version 10; onnxruntime 1.30 refuses newer IR versions with this opset.
export const OPSET_VERSION = 21;
const IR_VERSION = 10;
const OPSET_IMPORT = [{ domain: '', version: OPSET_VERSION }, { domain: 'com.microsoft', version: 1 }];

/** protobuf's hard limit on one message; onnxruntime refuses larger ModelProtos. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** Initializers smaller than this stay inside the ModelProto when weights go to external data. */
const EXTERNAL_DATA_MIN_BYTES = 1024;
const DATA_LOCATION_EXTERNAL = 1;
/** onnxruntime memory-maps external data at offsets aligned to the page size. */
const PAGE = 4096;
const MODEL_GRAPH_FIELD = 7;
const GRAPH_INITIALIZER_FIELD = 5;
const TENSOR_RAW_DATA_FIELD = 9;

export function serializeModel(graph: Graph): Uint8Array {
  const graphHead = GraphProto.encode({
    name: graph.name,
    node: graph.nodes.map(nodeProto),
    input: graph.inputs.map(valueInfo),
    output: graph.outputs.map(valueInfo),
  }).finish();
  const tensors = [...graph.initializers.values()].map(({ value, data }) => {
    const head = TensorProto.encode({ name: value.name, dims: value.shape as number[], dataType: ONNX_DTYPE_CODE[value.dtype] }).finish();
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const rawFrame = frame(TENSOR_RAW_DATA_FIELD, raw.length);
    return { head, rawFrame, raw, length: head.length + rawFrame.length + raw.length };
  });
  const graphLength = graphHead.length + tensors.reduce((n, t) => n + frame(GRAPH_INITIALIZER_FIELD, t.length).length + t.length, 0);
  const modelHead = ModelProto.encode({ irVersion: IR_VERSION, producerName: 'tagllm', opsetImport: OPSET_IMPORT }).finish();
  const graphFrame = frame(MODEL_GRAPH_FIELD, graphLength);

  const total = modelHead.length + graphFrame.length + graphLength;
  if (total >= PROTOBUF_LIMIT) {
    throw new UnsupportedError(`the ONNX graph would be ${(total / 2 ** 30).toFixed(1)} GiB of float32 weights; one in-memory ModelProto holds under 2 GiB (about 500M parameters)`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  const put = (bytes: Uint8Array) => {
    out.set(bytes, at);
    at += bytes.length;
  };
  put(modelHead);
  put(graphFrame);
  put(graphHead);
  for (const t of tensors) {
    put(frame(GRAPH_INITIALIZER_FIELD, t.length));
    put(t.head);
    put(t.rawFrame);
    put(t.raw);
  }
  return out;
}

/** Bytes of all initializers: what decides between one buffer and external data. */
export function initializerBytes(graph: Graph): number {
  let n = 0;
  for (const { data } of graph.initializers.values()) n += data.byteLength;
  return n;
}

/**
 * Writes `modelPath` (the graph, small) and `modelPath.data` (every initializer of 1 KiB or
 * more, each at a page-aligned offset so onnxruntime can memory-map it) for onnxruntime to
 * load from the path; no size limit but the disk's. Initializers that view the same bytes (a
 * quantized weight and its DequantizeLinear view for the gradient) share one stored copy.
 */
export function writeModelWithExternalData(graph: Graph, modelPath: string): void {
  const dataPath = `${modelPath}.data`;
  const fd = openSync(dataPath, 'w');
  let offset = 0;
  const initializer: object[] = [];
  const written = new Map<ArrayBufferLike, Map<string, number>>();
  try {
    for (const { value, data } of graph.initializers.values()) {
      const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const tensor = { name: value.name, dims: value.shape as number[], dataType: ONNX_DTYPE_CODE[value.dtype] };
      if (raw.length < EXTERNAL_DATA_MIN_BYTES) {
        initializer.push({ ...tensor, rawData: raw });
        continue;
      }
      const views = written.get(data.buffer) ?? new Map<string, number>();
      written.set(data.buffer, views);
      const view = `${data.byteOffset}/${data.byteLength}`;
      const at = views.get(view);
      if (at !== undefined) {
        initializer.push({ ...tensor, dataLocation: DATA_LOCATION_EXTERNAL, externalData: externalData(basename(dataPath), at, raw.length) });
        continue;
      }
      const padding = (PAGE - (offset % PAGE)) % PAGE;
      if (padding > 0) writeSync(fd, new Uint8Array(padding));
      offset += padding;
      views.set(view, offset);
      writeSync(fd, raw);
      initializer.push({ ...tensor, dataLocation: DATA_LOCATION_EXTERNAL, externalData: externalData(basename(dataPath), offset, raw.length) });
      offset += raw.length;
    }
  } finally {
    closeSync(fd);
  }
  const model = {
    irVersion: IR_VERSION,
    producerName: 'tagllm',
    opsetImport: OPSET_IMPORT,
    graph: { name: graph.name, node: graph.nodes.map(nodeProto), initializer, input: graph.inputs.map(valueInfo), output: graph.outputs.map(valueInfo) },
  };
  writeFileSync(modelPath, ModelProto.encode(model).finish());
}

function externalData(location: string, offset: number, length: number) {
  return [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length) },
  ];
}

/** The key and length prefix of a length-delimited protobuf field. */
function frame(field: number, length: number): Uint8Array {
  const bytes = [...varint((field << 3) | 2), ...varint(length)];
  return Uint8Array.from(bytes);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function nodeProto(node: GraphNode, index: number) {
  return {
    name: `${node.op}_${index}`,
    opType: node.op,
    input: node.inputs.map((v) => v.name),
    output: node.outputs.map((v) => v.name),
    attribute: Object.entries(node.attrs).map(([name, value]) => attributeProto(name, value)),
    ...(node.domain === undefined ? {} : { domain: node.domain }),
  };
}

function attributeProto(name: string, value: AttrValue) {
  if (typeof value === 'string') return { name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return FLOAT_ATTRIBUTES.has(name) ? { name, type: OnnxAttributeType.FLOAT, f: value } : { name, type: OnnxAttributeType.INT, i: value };
  }
  return FLOAT_ATTRIBUTES.has(name) ? { name, type: OnnxAttributeType.FLOATS, floats: value } : { name, type: OnnxAttributeType.INTS, ints: value };
}

function valueInfo(v: Value) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE_CODE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}
