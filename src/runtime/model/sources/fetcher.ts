// The one seam between the runtime and the network: turn a remote model spec into a local
// path (a GGUF file or a Hugging Face folder) inside a cache folder.
import type { RemoteModelSpec } from './spec';

export interface FetchProgress {
  /** The file being downloaded (its name within the repo, or the URL's last segment). */
  readonly file: string;
  readonly bytesDone: number;
  /** Absent when the server does not say. */
  readonly bytesTotal?: number;
}

export interface ModelFetcher {
  /** Downloads what `spec` names into `cacheDir` unless it is already there; returns the local path. */
  fetch(spec: RemoteModelSpec, cacheDir: string, onProgress?: (progress: FetchProgress) => void, signal?: AbortSignal): Promise<string>;
}
