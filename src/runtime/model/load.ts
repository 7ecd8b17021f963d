// One entry point for every model source: a GGUF file, a Hugging Face folder, or a Hugging
// Face repo id / URL that is first downloaded into the local cache.
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../errors';
import type { LoadedModel } from './description';
import { loadGgufModel } from './gguf/toModel';
import { loadHfFolder } from './hf/loadFolder';

export interface LoadProgress {
  /** 'read': tensor bytes read from disk so far. */
  readonly phase: 'read';
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface LoadModelOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: LoadProgress) => void;
}

export async function loadModel(spec: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (!existsSync(spec)) throw new UsageError('no such model file or folder', spec);
  const readOptions = {
    signal: options.signal,
    onProgress: (bytesDone: number, bytesTotal: number) => options.onProgress?.({ phase: 'read', bytesDone, bytesTotal }),
  };
  return statSync(spec).isDirectory() ? loadHfFolder(spec, readOptions) : loadGgufModel(spec, readOptions);
}

/** Stored parameters: each weight tensor counted once (a tied output head is not a separate tensor). */
export function countParameters(model: Pick<LoadedModel, 'weights'>): number {
  let total = 0;
  for (const tensor of model.weights.values()) total += tensor.data.length;
  return total;
}
