// What a user may pass as `--model` besides a local path: an http(s) URL, a Hugging Face repo
// id (`org/name`, a whole model folder), or one file in a repo (`org/name/path/file.gguf`).
// Also where downloads are cached, and the model used when none is named.
import { homedir } from 'node:os';
import { join } from 'node:path';

export type RemoteModelSpec =
  | { readonly kind: 'url'; readonly url: string; readonly sha256?: string }
  | { readonly kind: 'hf-repo'; readonly repo: string; readonly revision: string }
  | { readonly kind: 'hf-file'; readonly repo: string; readonly file: string; readonly revision: string; readonly sha256?: string };

/** The model used when neither `--model` nor TAGLLM_MODEL names one: stories260K (1.2 MB), pinned by commit and sha256. */
export const DEFAULT_MODEL = {
  url: 'https://huggingface.co/ggml-org/models-moved/resolve/499bc8821c6b12b4e53c5bffcb21ec206f212d81/tinyllamas/stories260K.gguf',
  sha256: '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d',
} as const;

/** The model to use when the user named none: $TAGLLM_MODEL, else DEFAULT_MODEL. */
export function defaultModelSpec(env: NodeJS.ProcessEnv = process.env): string {
  return env.TAGLLM_MODEL || DEFAULT_MODEL.url;
}

/** $TAGLLM_CACHE_DIR, else ~/.cache/tagllm. */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TAGLLM_CACHE_DIR || join(homedir(), '.cache', 'tagllm');
}

// Hugging Face repo and path segments: letters, digits, '-', '_', '.', never '.' or '..' alone.
const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The remote model a spec names, or undefined when it does not look like one (then it can
 * only be a local path). Callers check for a local file or folder of that name first.
 */
export function parseRemoteSpec(spec: string): RemoteModelSpec | undefined {
  if (/^https?:\/\//i.test(spec)) {
    const url = URL.canParse(spec) ? new URL(spec) : undefined;
    if (!url?.pathname.split('/').pop()) return undefined;
    // The default model's checksum travels with its URL, however the user came to name it.
    const sha256 = url.href === DEFAULT_MODEL.url ? DEFAULT_MODEL.sha256 : undefined;
    return { kind: 'url', url: url.href, ...(sha256 && { sha256 }) };
  }
  const parts = spec.split('/');
  if (parts.length < 2 || !parts.every((p) => SEGMENT.test(p))) return undefined;
  const repo = `${parts[0]}/${parts[1]}`;
  if (parts.length === 2) return { kind: 'hf-repo', repo, revision: 'main' };
  return { kind: 'hf-file', repo, file: parts.slice(2).join('/'), revision: 'main' };
}
