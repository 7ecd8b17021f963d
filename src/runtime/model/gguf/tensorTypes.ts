// ggml tensor types as stored in a GGUF tensor table: the numeric id, and for the types we
// can read, how many values one block holds and how many bytes it takes. Sizes come from
// ggml's block structs (ggml-common.h); the reader uses them to check every tensor fits the file.

export interface GgmlTypeLayout {
  readonly id: number;
  readonly name: string;
  /** Values per block (1 for plain float types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
}

const SUPPORTED: readonly GgmlTypeLayout[] = [
  { id: 0, name: 'F32', blockSize: 1, blockBytes: 4 },
  { id: 1, name: 'F16', blockSize: 1, blockBytes: 2 },
  { id: 2, name: 'Q4_0', blockSize: 32, blockBytes: 2 + 16 },
  { id: 3, name: 'Q4_1', blockSize: 32, blockBytes: 2 + 2 + 16 },
  { id: 6, name: 'Q5_0', blockSize: 32, blockBytes: 2 + 4 + 16 },
  { id: 7, name: 'Q5_1', blockSize: 32, blockBytes: 2 + 2 + 4 + 16 },
  { id: 8, name: 'Q8_0', blockSize: 32, blockBytes: 2 + 32 },
  { id: 12, name: 'Q4_K', blockSize: 256, blockBytes: 2 + 2 + 12 + 128 },
  { id: 13, name: 'Q5_K', blockSize: 256, blockBytes: 2 + 2 + 12 + 32 + 128 },
  { id: 14, name: 'Q6_K', blockSize: 256, blockBytes: 128 + 64 + 16 + 2 },
  { id: 30, name: 'BF16', blockSize: 1, blockBytes: 2 },
];

// Types ggml defines that we do not dequantize; named so the error says which one a file uses.
const UNSUPPORTED_NAMES: Readonly<Record<number, string>> = {
  9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS',
  18: 'IQ3_XXS', 19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16',
  26: 'I32', 27: 'I64', 28: 'F64', 29: 'IQ1_M', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

const BY_ID = new Map(SUPPORTED.map((t) => [t.id, t]));

export function ggmlTypeLayout(id: number): GgmlTypeLayout | undefined {
  return BY_ID.get(id);
}

/** Why a type id cannot be read, for an error message: `unknown GGUF tensor type 99` or `GGUF tensor type Q5_K (13) is not supported`. */
export function unsupportedTypeReason(id: number): string {
  const name = UNSUPPORTED_NAMES[id];
  const supported = SUPPORTED.map((t) => t.name).join(', ');
  return name === undefined
    ? `unknown GGUF tensor type ${id}`
    : `GGUF tensor type ${name} (${id}) is not supported (supported: ${supported})`;
}
