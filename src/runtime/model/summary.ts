// What `tagllm info` and the model picker show about a model. A GGUF file is summarized from
// its header alone (no tensor is read, so a 40 GB file costs a few MB); other sources load.
import type { LlamaConfig, LoadedModel, ModelSource } from './description';
import { ggufParameterCount } from './gguf/config';
import { GgufFile } from './gguf/reader';
import { readGgufConfig } from './gguf/toModel';
import { estimateModelMemory, heldWeightBytes, type MemoryEstimate } from './memoryEstimate';
import { countParameters } from './load';

export interface ModelSummary {
  readonly source: ModelSource;
  readonly config: LlamaConfig;
  /** Stored parameters; a tied output head counts once. */
  readonly parameters: number;
  /** 'llama' (SentencePiece BPE), 'gpt2' (byte-level BPE), or the tokenizer.json model type. */
  readonly tokenizer: string;
  /** The peak memory the runtime's load check expects (GGUF files: from the header). */
  readonly memoryEstimate?: MemoryEstimate;
}

export function summarizeGguf(path: string): ModelSummary {
  const file = GgufFile.open(path);
  try {
    const { header } = file;
    const kind = header.metadata.get('tokenizer.ggml.model');
    const config = readGgufConfig(file);
    return {
      source: { format: 'gguf', path },
      config,
      parameters: ggufParameterCount(header),
      tokenizer: typeof kind === 'string' ? kind : 'none',
      memoryEstimate: estimateModelMemory(heldWeightBytes(header), config),
    };
  } finally {
    file.close();
  }
}

export function summarizeLoaded(model: LoadedModel): ModelSummary {
  return { source: model.source, config: model.config, parameters: countParameters(model), tokenizer: tokenizerKind(model.tokenizerJson) };
}

/** The GGUF-style kind of a tokenizer.json: byte-level BPE is 'gpt2', byte-fallback BPE is 'llama'. */
export function tokenizerKind(tokenizerJson: Record<string, unknown>): string {
  const model = tokenizerJson.model as { type?: unknown; byte_fallback?: unknown } | undefined;
  const type = typeof model?.type === 'string' ? model.type : 'none';
  if (type !== 'BPE') return type.toLowerCase();
  if (JSON.stringify([tokenizerJson.pre_tokenizer, tokenizerJson.decoder]).includes('"ByteLevel"')) return 'gpt2';
  return model?.byte_fallback === true ? 'llama' : 'bpe';
}
