// `--model` as the user typed it -> a local path: the path itself when it exists, else the
// cached download of the URL or Hugging Face repo it names.
import { existsSync } from 'node:fs';
import { DownloadError, UsageError } from '../../errors';
import type { FetchProgress, ModelFetcher } from './fetcher';
import { HttpModelFetcher } from './httpFetcher';
import { modelCacheDir, parseRemoteSpec } from './spec';

export interface ResolveOptions {
  /** Default: modelCacheDir() ($TAGLLM_CACHE_DIR or ~/.cache/tagllm). */
  readonly cacheDir?: string;
  /** Default: HttpModelFetcher. */
  readonly fetcher?: ModelFetcher;
  readonly onProgress?: (progress: FetchProgress) => void;
  readonly signal?: AbortSignal;
}

export async function resolveModelSpec(spec: string, options: ResolveOptions = {}): Promise<string> {
  if (existsSync(spec)) return spec;
  const remote = parseRemoteSpec(spec);
  if (!remote) throw new UsageError('no such model file or folder', spec);
  const fetcher = options.fetcher ?? new HttpModelFetcher();
  try {
    return await fetcher.fetch(remote, options.cacheDir ?? modelCacheDir(), options.onProgress, options.signal);
  } catch (err) {
    // "org/name" may just as well have been a mistyped local path.
    if (remote.kind !== 'url' && err instanceof DownloadError && err.message.includes('HTTP 404')) {
      throw new DownloadError(`${err.message}; there is no local file or folder "${spec}" either`);
    }
    throw err;
  }
}
