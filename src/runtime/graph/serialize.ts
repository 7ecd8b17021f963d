// Graph -> ONNX ModelProto bytes. Initializers go in as raw little-endian bytes viewed straight
// from their typed arrays, so the only full copy of the weights is the encoded buffer itself.
// A ModelProto is limited to 2 GiB by protobuf; a SmolLM2-135M-sized float32 model (~540 MB)
// fits comfortably.
import { FLOAT_ATTRIBUTES, ONNX_DTYPE_CODE, type AttrValue, type Graph, type GraphNode, type Value } from './graph';
import { ModelProto, OnnxAttributeType } from './onnxProto';

export const OPSET_VERSION = 18;
const IR_VERSION = 8;

export function serializeModel(graph: Graph): Uint8Array {
  const model = {
    irVersion: IR_VERSION,
    producerName: 'tagllm',
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    graph: {
      name: graph.name,
      node: graph.nodes.map(nodeProto),
      initializer: [...graph.initializers.values()].map(({ value, data }) => ({
        name: value.name,
        dims: value.shape as number[],
        dataType: ONNX_DTYPE_CODE[value.dtype],
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      })),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  };
  return ModelProto.encode(model).finish();
}

function nodeProto(node: GraphNode, index: number) {
  return {
    name: `${node.op}_${index}`,
    opType: node.op,
    input: node.inputs.map((v) => v.name),
    output: node.outputs.map((v) => v.name),
    attribute: Object.entries(node.attrs).map(([name, value]) => attributeProto(name, value)),
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
