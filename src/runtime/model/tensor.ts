// Reading model weights as float32 whatever form they are kept in: float32 tensors are viewed
// in place, quantized ones dequantized a few rows at a time, so a consumer that walks the
// whole embedding table (tag initialisation, the bundle fingerprint) never holds a float32
// copy of it.
import { dequantize } from './gguf/quant';
import type { F32Tensor, ModelTensor, QuantizedTensor } from './description';

export function isQuantized(t: ModelTensor): t is QuantizedTensor {
  return 'bytes' in t;
}

export function elementCount(t: ModelTensor): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/** Bytes the tensor's values take, from its shape and type (a quantized tensor's bytes are not read). */
export function storedBytes(t: ModelTensor): number {
  return isQuantized(t) ? (elementCount(t) / t.type.blockSize) * t.type.blockBytes : t.data.byteLength;
}

/** Rows `from .. from+count` of a 2-D tensor as float32 [count, cols]: a view for float32 tensors. */
export function tensorRows(t: ModelTensor, from: number, count: number): Float32Array {
  const cols = t.shape[1]!;
  if (!isQuantized(t)) return t.data.subarray(from * cols, (from + count) * cols);
  const rowBytes = (cols / t.type.blockSize) * t.type.blockBytes;
  return dequantize(t.type, t.bytes.subarray(from * rowBytes, (from + count) * rowBytes), count * cols);
}

/** Rows of a 2-D tensor in chunks of about `chunkValues` floats, each [rows, cols], in order. */
export function* rowChunks(t: ModelTensor, chunkValues = 1 << 20): Generator<Float32Array> {
  const [rows, cols] = t.shape as [number, number];
  const step = Math.max(1, Math.floor(chunkValues / cols));
  for (let r = 0; r < rows; r += step) yield tensorRows(t, r, Math.min(step, rows - r));
}

/** The whole tensor as float32 (a copy for quantized tensors). */
export function floatTensor(t: ModelTensor): F32Tensor {
  return isQuantized(t) ? { shape: [...t.shape], data: tensorRows(t, 0, t.shape[0]) } : t;
}
