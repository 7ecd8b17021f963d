/**
 * GGUF block-quantized projections as onnxruntime's `com.microsoft` MatMulNBits, without loss.
 *
 * MatMulNBits computes y = x W^T for W [N, K] stored in blocks of `blockSize` along K, each
 * block b of row n as an unsigned integer q and a float32 scale: W = s (q - z) with the default
 * zero point z = 2^(bits-1). GGUF rows are the same [out, in] layout quantized along `in`, so
 * no transpose is needed; every GGUF type is rewritten block by block as
 *   w = s (q' - z) + c     (c one float per block)
 * with q' the stored integer shifted so the default zero point applies. Where some c is not
 * zero (types with a per-block minimum: Q4_1, Q5_1, Q4_K, Q5_K) the product gets the exact
 * correction sum_b c_b * (sum of x over block b): x summed per block [.., K/bs] times C [K/bs, N].
 *   Q4_0 4-bit q (zp 8)              Q4_1 4-bit q, c = m + 8d
 *   Q5_0 8-bit q+112 (= d(q-16))     Q5_1 8-bit q+112, c = m + 16d
 *   Q8_0 8-bit q+128                 Q6_K 8-bit q+96 in blocks of 16, s = d*sc (exact in float32)
 *   Q4_K 4-bit, s = d*sc, c = 8s - dmin*m      Q5_K 8-bit q+112, s = d*sc, c = 16s - dmin*m
 * Float zero points are not used: onnxruntime runs them on a slow path (4-bit) or not at all (8-bit).
 * 4-bit values pack element 2j in the low nibble of byte j and 2j+1 in the high one (GGUF's
 * Q4 blocks pack j and j+16 instead), so nibbles are reshuffled.
 *
 * accuracy_level 4 quantizes the activations to int8 per block (what llama.cpp does with its
 * Q8 activations), the fast path, at about 5e-3 relative error per product; 0 computes in
 * float32 (about 1e-6), slower. `'exact'` serves parity tests, `'fast'` serving and training.
 */
import type { QuantizedTensor } from '../model/description';
import { halfAt as f16, kQuantGroups } from '../model/gguf/quant';
import { UnsupportedError } from '../errors';
import type { Graph, Value } from '../graph/graph';

export type QuantizedMatMulMode = 'exact' | 'fast';

/** A weight [rows, cols] in MatMulNBits' form. */
export interface NBitsWeight {
  readonly rows: number;
  readonly cols: number;
  readonly bits: 4 | 8;
  readonly blockSize: number;
  /** [rows, cols / blockSize, blockSize * bits / 8] */
  readonly packed: Uint8Array;
  /** [rows, cols / blockSize] */
  readonly scales: Float32Array;
  /** [rows, cols / blockSize]: the per-block offsets c; absent when all are zero. */
  readonly offsets?: Float32Array;
}

interface Layout {
  readonly bits: 4 | 8;
  readonly blockSize: number;
  readonly offsets: boolean;
  /**
   * One GGUF block at `src[s..]` -> its `ggufBlock / blockSize` MatMulNBits blocks: the stored
   * integers q (one per byte, shifted for the default zero point), and scales and offsets at
   * `at..` (plain indices: a subarray per block would cost an allocation per 32 values).
   */
  readonly convert: (src: Uint8Array, s: number, q: Uint8Array, scales: Float32Array, offsets: Float32Array, at: number) => void;
}

const u32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

const groupScales = new Float32Array(8);
const groupMins = new Float32Array(8);

/** A K-quant super-block's eight group scales, and the offsets c = z * scale - min for zero point z (see the module comment). */
function kQuantScales(src: Uint8Array, s: number, zeroPoint: number, scales: Float32Array, offsets: Float32Array, at: number): void {
  kQuantGroups(src, s, groupScales, groupMins);
  for (let sub = 0; sub < 8; sub++) {
    scales[at + sub] = groupScales[sub]!;
    offsets[at + sub] = zeroPoint * groupScales[sub]! - groupMins[sub]!;
  }
}

const LAYOUTS: Readonly<Record<string, Layout>> = {
  Q4_0: {
    bits: 4, blockSize: 32, offsets: false,
    convert(src, s, q, scales, _offsets, at) {
      scales[at] = f16(src, s);
      for (let j = 0; j < 16; j++) {
        q[j] = src[s + 2 + j]! & 0x0f;
        q[j + 16] = src[s + 2 + j]! >> 4;
      }
    },
  },
  Q4_1: {
    bits: 4, blockSize: 32, offsets: true,
    convert(src, s, q, scales, offsets, at) {
      const d = f16(src, s);
      scales[at] = d;
      offsets[at] = f16(src, s + 2) + 8 * d;
      for (let j = 0; j < 16; j++) {
        q[j] = src[s + 4 + j]! & 0x0f;
        q[j + 16] = src[s + 4 + j]! >> 4;
      }
    },
  },
  Q5_0: {
    bits: 8, blockSize: 32, offsets: false,
    convert(src, s, q, scales, _offsets, at) {
      scales[at] = f16(src, s);
      const qh = u32(src, s + 2);
      for (let j = 0; j < 16; j++) {
        q[j] = 112 + ((src[s + 6 + j]! & 0x0f) | (((qh >>> j) & 1) << 4));
        q[j + 16] = 112 + ((src[s + 6 + j]! >> 4) | (((qh >>> (j + 16)) & 1) << 4));
      }
    },
  },
  Q5_1: {
    bits: 8, blockSize: 32, offsets: true,
    convert(src, s, q, scales, offsets, at) {
      const d = f16(src, s);
      scales[at] = d;
      offsets[at] = f16(src, s + 2) + 16 * d;
      const qh = u32(src, s + 4);
      for (let j = 0; j < 16; j++) {
        q[j] = 112 + ((src[s + 8 + j]! & 0x0f) | (((qh >>> j) & 1) << 4));
        q[j + 16] = 112 + ((src[s + 8 + j]! >> 4) | (((qh >>> (j + 16)) & 1) << 4));
      }
    },
  },
  Q8_0: {
    bits: 8, blockSize: 32, offsets: false,
    convert(src, s, q, scales, _offsets, at) {
      scales[at] = f16(src, s);
      for (let j = 0; j < 32; j++) q[j] = src[s + 2 + j]! ^ 0x80;
    },
  },
  Q4_K: {
    bits: 4, blockSize: 32, offsets: true,
    convert(src, s, q, scales, offsets, at) {
      kQuantScales(src, s, 8, scales, offsets, at);
      for (let g = 0; g < 4; g++) {
        for (let l = 0; l < 32; l++) {
          const byte = src[s + 16 + 32 * g + l]!;
          q[64 * g + l] = byte & 0x0f;
          q[64 * g + 32 + l] = byte >> 4;
        }
      }
    },
  },
  Q5_K: {
    bits: 8, blockSize: 32, offsets: true,
    convert(src, s, q, scales, offsets, at) {
      kQuantScales(src, s, 16, scales, offsets, at);
      for (let g = 0; g < 4; g++) {
        for (let l = 0; l < 32; l++) {
          const byte = src[s + 48 + 32 * g + l]!;
          const h = src[s + 16 + l]!;
          q[64 * g + l] = 112 + ((byte & 0x0f) | (((h >> (2 * g)) & 1) << 4));
          q[64 * g + 32 + l] = 112 + ((byte >> 4) | (((h >> (2 * g + 1)) & 1) << 4));
        }
      }
    },
  },
  Q6_K: {
    bits: 8, blockSize: 16, offsets: false,
    convert(src, s, q, scales, _offsets, at) {
      const d = f16(src, s + 208);
      for (let k = 0; k < 16; k++) scales[at + k] = Math.fround(d * ((src[s + 192 + k]! << 24) >> 24));
      for (let h = 0; h < 2; h++) {
        const ql = s + 64 * h;
        const qh = s + 128 + 32 * h;
        const y = 128 * h;
        for (let l = 0; l < 32; l++) {
          const hi = src[qh + l]!;
          q[y + l] = 96 + ((src[ql + l]! & 0x0f) | ((hi & 3) << 4));
          q[y + l + 32] = 96 + ((src[ql + l + 32]! & 0x0f) | (((hi >> 2) & 3) << 4));
          q[y + l + 64] = 96 + ((src[ql + l]! >> 4) | (((hi >> 4) & 3) << 4));
          q[y + l + 96] = 96 + ((src[ql + l + 32]! >> 4) | (((hi >> 6) & 3) << 4));
        }
      }
    },
  },
};

/** GGUF types that become MatMulNBits weights; the loader keeps these quantized. */
export const NBITS_TYPES: ReadonlySet<string> = new Set(Object.keys(LAYOUTS));

/** A quantized GGUF tensor rewritten for MatMulNBits (new arrays; the GGUF bytes are not kept). */
export function toNBits(t: QuantizedTensor): NBitsWeight {
  const layout = LAYOUTS[t.type.name];
  if (!layout) throw new UnsupportedError(`no MatMulNBits form for GGUF type ${t.type.name}`);
  const [rows, cols] = t.shape;
  const { bits, blockSize } = layout;
  const blocks = (rows * cols) / blockSize;
  const perGguf = t.type.blockSize / blockSize;
  const packed = new Uint8Array((rows * cols * bits) / 8);
  const scales = new Float32Array(blocks);
  const offsets = layout.offsets ? new Float32Array(blocks) : undefined;
  const q = new Uint8Array(t.type.blockSize);
  const noOffsets = new Float32Array(0);
  const bytes = t.bytes;
  for (let b = 0, s = 0; b < (rows * cols) / t.type.blockSize; b++, s += t.type.blockBytes) {
    layout.convert(bytes, s, q, scales, offsets ?? noOffsets, b * perGguf);
    if (bits === 8) packed.set(q, b * t.type.blockSize);
    else {
      const at = (b * t.type.blockSize) / 2;
      for (let j = 0; j < t.type.blockSize / 2; j++) packed[at + j] = q[2 * j]! | (q[2 * j + 1]! << 4);
    }
  }
  return offsets ? { rows, cols, bits, blockSize, packed, scales, offsets } : { rows, cols, bits, blockSize, packed, scales };
}

/** Whether `parts` can be one MatMulNBits: same input width, bits and block size. */
export function canConcatRows(parts: readonly NBitsWeight[]): boolean {
  return parts.every((p) => p.cols === parts[0]!.cols && p.bits === parts[0]!.bits && p.blockSize === parts[0]!.blockSize);
}

/** Several weights of the same input as one, rows one after the other (as packed q/k/v). */
export function concatRows(parts: readonly NBitsWeight[]): NBitsWeight {
  if (parts.length === 1) return parts[0]!;
  const cat = <T extends Uint8Array | Float32Array>(arrays: readonly T[], make: (n: number) => T): T => {
    const out = make(arrays.reduce((n, a) => n + a.length, 0));
    arrays.reduce((at, a) => (out.set(a, at), at + a.length), 0);
    return out;
  };
  const { cols, bits, blockSize } = parts[0]!;
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const packed = cat(parts.map((p) => p.packed), (n) => new Uint8Array(n));
  const scales = cat(parts.map((p) => p.scales), (n) => new Float32Array(n));
  if (parts.every((p) => !p.offsets)) return { rows, cols, bits, blockSize, packed, scales };
  const offsets = cat(parts.map((p) => p.offsets ?? new Float32Array(p.scales.length)), (n) => new Float32Array(n));
  return { rows, cols, bits, blockSize, packed, scales, offsets };
}

const ACCURACY_LEVEL: Readonly<Record<QuantizedMatMulMode, number>> = { exact: 0, fast: 4 };

/** x [.., cols] times w^T: [.., rows]. Initializers are named after `name`. */
export function quantizedLinear(g: Graph, x: Value, w: NBitsWeight, name: string, mode: QuantizedMatMulMode): Value {
  const { rows, cols, bits, blockSize } = w;
  const blocksPerRow = cols / blockSize;
  if (x.shape[x.shape.length - 1] !== cols) throw new UnsupportedError(`${name}: input width ${x.shape[x.shape.length - 1]} is not the weight's ${cols}`);
  const packed = g.initializer(`${name}.nbits`, 'uint8', [rows, blocksPerRow, (blockSize * bits) / 8], w.packed);
  const scales = g.initializer(`${name}.scales`, 'float32', [rows * blocksPerRow], w.scales);
  const attrs = { K: cols, N: rows, bits, block_size: blockSize, accuracy_level: ACCURACY_LEVEL[mode] };
  const product = g.contribNode('MatMulNBits', [x, packed, scales], attrs, [{ dtype: 'float32', shape: [...x.shape.slice(0, -1), rows] }])[0]!;
  if (!w.offsets) return product;
  // sum_b c[n, b] * (sum of x over block b): the blocks' sums [.., K/bs] times C^T [K/bs, N].
  const blockSums = g.reduceSum(g.reshape(x, [...x.shape.slice(0, -1), blocksPerRow, blockSize]), [-1], false);
  const offsetsT = new Float32Array(rows * blocksPerRow);
  for (let n = 0; n < rows; n++) for (let b = 0; b < blocksPerRow; b++) offsetsT[b * rows + n] = w.offsets[n * blocksPerRow + b]!;
  return g.add(product, g.matMul(blockSums, g.initializer(`${name}.offsets`, 'float32', [blocksPerRow, rows], offsetsT)));
}
