// Dequantization of ggml tensor blocks to float32. Block layouts follow ggml's structs
// (ggml-common.h) and reference dequantizers (ggml-quants.c): each block stores f16 scale(s)
// and packed small integers; value = scale * q (+ min). Inner loops read bytes from a
// Uint8Array and convert f16 through a lookup table.
import type { GgmlTypeLayout } from './tensorTypes';

let f16Table: Float32Array | undefined;

/** float32 value of every IEEE half-precision bit pattern. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[h] = mantissa ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return (f16Table = table);
}

function f16At(table: Float32Array, b: Uint8Array, i: number): number {
  return table[b[i]! | (b[i + 1]! << 8)]!;
}

/** The little-endian half-precision value at byte `i` of `b`, as a float32. */
export function halfAt(b: Uint8Array, i: number): number {
  return f16At(halfTable(), b, i);
}

type Dequantizer = (src: Uint8Array, out: Float32Array, blocks: number) => void;

function f32(src: Uint8Array, out: Float32Array): void {
  new Uint8Array(out.buffer, out.byteOffset, src.length).set(src);
}

// F16 and BF16 read whole 16-bit words when the bytes are 2-aligned (they are, from GgufFile).
function halves(src: Uint8Array, count: number): Uint16Array {
  if (src.byteOffset % 2 === 0) return new Uint16Array(src.buffer, src.byteOffset, count);
  return new Uint16Array(src.slice().buffer, 0, count);
}

function f16(src: Uint8Array, out: Float32Array): void {
  const t = halfTable();
  const h = halves(src, out.length);
  for (let i = 0; i < out.length; i++) out[i] = t[h[i]!]!;
}

function bf16(src: Uint8Array, out: Float32Array): void {
  // bf16 is the top half of a float32.
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const h = halves(src, out.length);
  for (let i = 0; i < out.length; i++) bits[i] = h[i]! << 16;
}

// Q8_0: f16 d, int8 q[32]; x = d * q.
function q8_0(src: Uint8Array, out: Float32Array, blocks: number): void {
  const t = halfTable();
  for (let b = 0, s = 0, o = 0; b < blocks; b++, s += 34, o += 32) {
    const d = f16At(t, src, s);
    for (let j = 0; j < 32; j++) out[o + j] = d * ((src[s + 2 + j]! << 24) >> 24);
  }
}

// Q4_0: f16 d, 16 bytes of nibbles; low nibbles are values 0..15, high nibbles 16..31; x = d * (q - 8).
function q4_0(src: Uint8Array, out: Float32Array, blocks: number): void {
  const t = halfTable();
  for (let b = 0, s = 0, o = 0; b < blocks; b++, s += 18, o += 32) {
    const d = f16At(t, src, s);
    for (let j = 0; j < 16; j++) {
      const q = src[s + 2 + j]!;
      out[o + j] = d * ((q & 0x0f) - 8);
      out[o + j + 16] = d * ((q >> 4) - 8);
    }
  }
}

// Q4_1: f16 d, f16 m, 16 bytes of nibbles; x = d * q + m.
function q4_1(src: Uint8Array, out: Float32Array, blocks: number): void {
  const t = halfTable();
  for (let b = 0, s = 0, o = 0; b < blocks; b++, s += 20, o += 32) {
    const d = f16At(t, src, s);
    const m = f16At(t, src, s + 2);
    for (let j = 0; j < 16; j++) {
      const q = src[s + 4 + j]!;
      out[o + j] = Math.fround(d * (q & 0x0f)) + m;
      out[o + j + 16] = Math.fround(d * (q >> 4)) + m;
    }
  }
}

// Q5_0: f16 d, uint32 qh (the fifth bit of each value), 16 bytes of nibbles; x = d * (q - 16).
function q5_0(src: Uint8Array, out: Float32Array, blocks: number): void {
  const t = halfTable();
  for (let b = 0, s = 0, o = 0; b < blocks; b++, s += 22, o += 32) {
    const d = f16At(t, src, s);
    const qh = (src[s + 2]! | (src[s + 3]! << 8) | (src[s + 4]! << 16) | (src[s + 5]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = src[s + 6 + j]!;
      const hi0 = ((qh >>> j) & 1) << 4;
      const hi1 = ((qh >>> (j + 16)) & 1) << 4;
      out[o + j] = d * (((q & 0x0f) | hi0) - 16);
      out[o + j + 16] = d * (((q >> 4) | hi1) - 16);
    }
  }
}

// Q5_1: f16 d, f16 m, uint32 qh, 16 bytes of nibbles; x = d * q + m with 5-bit q.
function q5_1(src: Uint8Array, out: Float32Array, blocks: number): void {
  const t = halfTable();
  for (let b = 0, s = 0, o = 0; b < blocks; b++, s += 24, o += 32) {
    const d = f16At(t, src, s);
    const m = f16At(t, src, s + 2);
    const qh = (src[s + 4]! | (src[s + 5]! << 8) | (src[s + 6]! << 16) | (src[s + 7]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = src[s + 8 + j]!;
      out[o + j] = Math.fround(d * ((q & 0x0f) | (((qh >>> j) & 1) << 4))) + m;
      out[o + j + 16] = Math.fround(d * ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4))) + m;
    }
  }
}

/**
 * The eight 6-bit scales and eight 6-bit mins of a Q4_K/Q5_K super-block, packed in the 12
 * bytes at `at` (ggml's get_scale_min_k4).
 */
function kQuantScalesMins(src: Uint8Array, at: number, scale: Uint8Array, min: Uint8Array): void {
  for (let j = 0; j < 4; j++) {
    scale[j] = src[at + j]! & 63;
    min[j] = src[at + j + 4]! & 63;
    scale[j + 4] = (src[at + j + 8]! & 0x0f) | ((src[at + j]! >> 6) << 4);
    min[j + 4] = (src[at + j + 8]! >> 4) | ((src[at + j + 4]! >> 6) << 4);
  }
}

const kScale = new Uint8Array(8);
const kMin = new Uint8Array(8);

/**
 * A Q4_K/Q5_K super-block's eight group scales (d * scale) and mins (dmin * min), from the f16
 * d and dmin at `s` and the packed 6-bit values after them, as the float32 products ggml's
 * dequantizer uses: x = scales[g] * q - mins[g].
 */
export function kQuantGroups(src: Uint8Array, s: number, scales: Float32Array, mins: Float32Array): void {
  const t = halfTable();
  const d = f16At(t, src, s);
  const dmin = f16At(t, src, s + 2);
  kQuantScalesMins(src, s + 4, kScale, kMin);
  for (let j = 0; j < 8; j++) {
    scales[j] = d * kScale[j]!;
    mins[j] = dmin * kMin[j]!;
  }
}

// Q4_K: super-block of 256 = 8 groups of 32. f16 d, f16 dmin, 12 bytes holding eight 6-bit
// scales and eight 6-bit mins, 128 bytes of nibbles. Groups 2k and 2k+1 share 32 bytes
// (low nibbles, then high nibbles). x = d * scale * q - dmin * min.
function q4_k(src: Uint8Array, out: Float32Array, blocks: number): void {
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  for (let b = 0, s = 0, o = 0; b < blocks; b++, s += 144, o += 256) {
    kQuantGroups(src, s, scales, mins);
    const qs = s + 16;
    for (let g = 0; g < 4; g++) {
      const [d1, m1, d2, m2] = [scales[2 * g]!, mins[2 * g]!, scales[2 * g + 1]!, mins[2 * g + 1]!];
      const q = qs + 32 * g;
      const y = o + 64 * g;
      for (let l = 0; l < 32; l++) {
        out[y + l] = Math.fround(d1 * (src[q + l]! & 0x0f)) - m1;
        out[y + 32 + l] = Math.fround(d2 * (src[q + l]! >> 4)) - m2;
      }
    }
  }
}

// Q5_K: as Q4_K with a fifth bit per value: after the 12 scale bytes, 32 bytes qh (bit 2g of
// qh[l] is the fifth bit of group 2g's value l, bit 2g+1 of group 2g+1's), then 128 bytes of nibbles.
function q5_k(src: Uint8Array, out: Float32Array, blocks: number): void {
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  for (let b = 0, s = 0, o = 0; b < blocks; b++, s += 176, o += 256) {
    kQuantGroups(src, s, scales, mins);
    const qh = s + 16;
    const qs = s + 48;
    for (let g = 0; g < 4; g++) {
      const [d1, m1, d2, m2] = [scales[2 * g]!, mins[2 * g]!, scales[2 * g + 1]!, mins[2 * g + 1]!];
      const q = qs + 32 * g;
      const y = o + 64 * g;
      for (let l = 0; l < 32; l++) {
        const h = src[qh + l]!;
        out[y + l] = Math.fround(d1 * ((src[q + l]! & 0x0f) | (((h >> (2 * g)) & 1) << 4))) - m1;
        out[y + 32 + l] = Math.fround(d2 * ((src[q + l]! >> 4) | (((h >> (2 * g + 1)) & 1) << 4))) - m2;
      }
    }
  }
}

// Q6_K: super-block of 256 = 16 groups of 16. 128 bytes of low nibbles (ql), 64 bytes of
// 2-bit highs (qh), 16 int8 scales, f16 d. x = d * scale * (q - 32).
function q6_k(src: Uint8Array, out: Float32Array, blocks: number): void {
  const t = halfTable();
  for (let b = 0, s = 0, o = 0; b < blocks; b++, s += 210, o += 256) {
    const d = f16At(t, src, s + 208);
    for (let half = 0; half < 2; half++) {
      const ql = s + 64 * half;
      const qh = s + 128 + 32 * half;
      const sc = s + 192 + 8 * half;
      const y = o + 128 * half;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = src[qh + l]!;
        const lo0 = src[ql + l]!;
        const lo1 = src[ql + l + 32]!;
        const q1 = ((lo0 & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((lo1 & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((lo0 >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((lo1 >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[y + l] = Math.fround(d * ((src[sc + is]! << 24) >> 24)) * q1;
        out[y + l + 32] = Math.fround(d * ((src[sc + is + 2]! << 24) >> 24)) * q2;
        out[y + l + 64] = Math.fround(d * ((src[sc + is + 4]! << 24) >> 24)) * q3;
        out[y + l + 96] = Math.fround(d * ((src[sc + is + 6]! << 24) >> 24)) * q4;
      }
    }
  }
}

const DEQUANTIZERS: Readonly<Record<string, Dequantizer>> = {
  F32: f32, F16: f16, BF16: bf16, Q8_0: q8_0, Q4_0: q4_0, Q4_1: q4_1, Q5_0: q5_0, Q5_1: q5_1, Q4_K: q4_k, Q5_K: q5_k, Q6_K: q6_k,
};

/** Float32 values of `count` elements stored as `type` in `src` (exactly count/blockSize blocks). */
export function dequantize(type: GgmlTypeLayout, src: Uint8Array, count: number): Float32Array {
  const blocks = count / type.blockSize;
  if (!Number.isInteger(blocks) || src.length !== blocks * type.blockBytes) {
    throw new RangeError(`${type.name}: ${src.length} bytes do not hold ${count} values`);
  }
  const dequantizer = DEQUANTIZERS[type.name];
  if (!dequantizer) throw new RangeError(`no dequantizer for ${type.name}`);
  const out = new Float32Array(count);
  dequantizer(src, out, blocks);
  return out;
}
