// One entry point for every model source: a GGUF file, a Hugging Face folder, or a Hugging
// Face repo id / URL that is first downloaded into the local cache.
import { statSync } from 'node:fs';
import type { LoadedModel } from './description';
import { elementCount } from './tensor';
import { loadGgufModel } from './gguf/toModel';
import { loadHfFolder } from './hf/loadFolder';
import { resolveModelSpec, type ResolveOptions } from './sources/resolve';

export type LoadProgress =
  /** A remote model's file arriving in the cache. */
  | { readonly phase: 'download'; readonly file: string; readonly bytesDone: number; readonly bytesTotal?: number }
  /** Tensor bytes read from disk so far. */
  | { readonly phase: 'read'; readonly bytesDone: number; readonly bytesTotal: number };

export interface LoadModelOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: LoadProgress) => void;
  /** Where remote models are cached and how they are fetched (defaults: ~/.cache/tagllm, HTTP). */
  readonly remote?: Pick<ResolveOptions, 'cacheDir' | 'fetcher'>;
}

/** The local file or folder a model spec names, downloading a remote model first. */
export function localModelPath(spec: string, options: LoadModelOptions = {}): Promise<string> {
  return resolveModelSpec(spec, {
    ...options.remote,
    signal: options.signal,
    onProgress: (p) => options.onProgress?.({ phase: 'download', ...p }),
  });
}

export async function loadModel(spec: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const path = await localModelPath(spec, options);
  const readOptions = {
    signal: options.signal,
    onProgress: (bytesDone: number, bytesTotal: number) => options.onProgress?.({ phase: 'read', bytesDone, bytesTotal }),
  };
  return statSync(path).isDirectory() ? loadHfFolder(path, readOptions) : loadGgufModel(path, readOptions);
}

/** Stored parameters: each weight tensor counted once (a tied output head is not a separate tensor). */
export function countParameters(model: Pick<LoadedModel, 'weights'>): number {
  let total = 0;
  for (const tensor of model.weights.values()) total += elementCount(tensor);
  return total;
}
