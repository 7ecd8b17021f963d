// What a model picker shows about a GGUF file before anyone loads it: family, parameter count,
// quantization and whether this machine's memory holds it, all from the header (a few MB read
// even for a 40 GB file). A file this runtime cannot run is still listed, with the reason.
import { TagLlmError } from '../errors';
import { ggufParameterCount } from './gguf/config';
import { GgufFile, type GgufHeader } from './gguf/reader';
import { readGgufConfig } from './gguf/toModel';
import { estimateModelMemory, heldWeightBytes, memoryVerdict, type MemoryVerdict } from './memoryEstimate';

export interface GgufListing {
  /** general.architecture: llama, qwen2, gemma3… */
  readonly family: string;
  readonly parameters: number;
  /** llama.cpp's name for the file type (Q4_K_M), else the type holding most of the bytes. */
  readonly quantization: string;
  readonly fileBytes: number;
  /** Absent when the runtime cannot run the file (`unsupported` says why). */
  readonly memory?: MemoryVerdict;
  readonly unsupported?: string;
}

export interface MachineMemory {
  readonly availableBytes: number;
  readonly totalBytes: number;
}

// llama.cpp's llama_ftype values (general.file_type) and the names its tools print.
const FILE_TYPES: Readonly<Record<number, string>> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M',
  13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS',
  21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S',
  29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16', 36: 'TQ1_0', 37: 'TQ2_0', 38: 'MXFP4',
};

export function quantizationName(header: Pick<GgufHeader, 'metadata' | 'tensors'>): string {
  const fileType = header.metadata.get('general.file_type');
  if (typeof fileType === 'number' && FILE_TYPES[fileType]) return FILE_TYPES[fileType];
  const bytesByType = new Map<string, number>();
  for (const t of header.tensors) bytesByType.set(t.type.name, (bytesByType.get(t.type.name) ?? 0) + t.byteLength);
  return [...bytesByType].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'no tensors';
}

/** Throws only when the file is not a readable GGUF; an unsupported model is listed with `unsupported`. */
export function listGguf(path: string, machine: MachineMemory): GgufListing {
  const file = GgufFile.open(path);
  try {
    const { header } = file;
    const architecture = header.metadata.get('general.architecture');
    const listing = {
      family: typeof architecture === 'string' ? architecture : 'unknown',
      parameters: ggufParameterCount(header),
      quantization: quantizationName(header),
      fileBytes: header.fileSize,
    };
    try {
      const estimate = estimateModelMemory(heldWeightBytes(header), readGgufConfig(file));
      return { ...listing, memory: memoryVerdict(estimate, machine.availableBytes, machine.totalBytes) };
    } catch (err) {
      if (!(err instanceof TagLlmError)) throw err;
      return { ...listing, unsupported: err.message.replace(`${path}: `, '') };
    }
  } finally {
    file.close();
  }
}

/** "1.2B", "135M". */
export function formatParameters(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : `${Math.round(n / 1e6)}M`;
}
