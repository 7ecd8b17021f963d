// ModelFetcher over the global `fetch`: plain URLs, and Hugging Face repos through their
// `resolve` endpoint. Each file streams into a temporary file beside its cache entry (hashed
// on the way when a sha256 is expected) and is renamed into place only when complete, so the
// cache never holds a partial file; a file already in the cache is not fetched again.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { DownloadError } from '../../errors';
import { writeFileAtomic } from '../../fs/atomicWrite';
import type { FetchProgress, ModelFetcher } from './fetcher';
import type { RemoteModelSpec } from './spec';

export interface HttpFetcherOptions {
  /** Hugging Face endpoint (default $HF_ENDPOINT, else https://huggingface.co). */
  readonly hfEndpoint?: string;
  /** Hugging Face access token for gated or private repos (default $HF_TOKEN). */
  readonly hfToken?: string;
}

type Progress = ((progress: FetchProgress) => void) | undefined;

// Written last into a downloaded repo folder: its presence means every file arrived.
const COMPLETE_MARKER = '.tagllm-complete';
const INDEX_FILE = 'model.safetensors.index.json';

export class HttpModelFetcher implements ModelFetcher {
  private readonly hfEndpoint: string;
  private readonly hfToken: string | undefined;

  constructor(options: HttpFetcherOptions = {}) {
    this.hfEndpoint = (options.hfEndpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
    this.hfToken = options.hfToken ?? process.env.HF_TOKEN;
  }

  async fetch(spec: RemoteModelSpec, cacheDir: string, onProgress?: Progress, signal?: AbortSignal): Promise<string> {
    switch (spec.kind) {
      case 'url': {
        const name = decodeURIComponent(new URL(spec.url).pathname.split('/').pop()!);
        const key = createHash('sha256').update(spec.url).digest('hex').slice(0, 16);
        const dest = join(cacheDir, 'url', key, name);
        await this.download(spec.url, dest, { sha256: spec.sha256, onProgress, signal });
        return dest;
      }
      case 'hf-file': {
        const dest = join(this.repoDir(cacheDir, spec.repo, spec.revision), ...spec.file.split('/'));
        await this.download(this.fileUrl(spec.repo, spec.revision, spec.file), dest, { sha256: spec.sha256, onProgress, signal });
        return dest;
      }
      case 'hf-repo':
        return this.fetchRepo(spec.repo, spec.revision, cacheDir, onProgress, signal);
    }
  }

  /** A Hugging Face model folder: config, tokenizer files, and one safetensors file or the index and its shards. */
  private async fetchRepo(repo: string, revision: string, cacheDir: string, onProgress: Progress, signal?: AbortSignal): Promise<string> {
    const dir = this.repoDir(cacheDir, repo, revision);
    if (existsSync(join(dir, COMPLETE_MARKER))) return dir;
    const get = (file: string, optional = false) =>
      this.download(this.fileUrl(repo, revision, file), join(dir, file), { optional, onProgress, signal });
    await get('config.json');
    await get('tokenizer.json');
    await get('tokenizer_config.json', true);
    await get('generation_config.json', true);
    if (await get(INDEX_FILE, true)) {
      for (const shard of await shardNames(join(dir, INDEX_FILE))) await get(shard);
    } else {
      await get('model.safetensors');
    }
    await writeFile(join(dir, COMPLETE_MARKER), '');
    return dir;
  }

  private repoDir(cacheDir: string, repo: string, revision: string): string {
    return join(cacheDir, 'hf', ...repo.split('/'), revision);
  }

  private fileUrl(repo: string, revision: string, file: string): string {
    const path = file.split('/').map(encodeURIComponent).join('/');
    return `${this.hfEndpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
  }

  /**
   * Fetches `url` into `dest` unless `dest` exists. Returns false only for an optional file
   * the server does not have (404).
   */
  private async download(
    url: string,
    dest: string,
    opts: { sha256?: string; optional?: boolean; onProgress: Progress; signal?: AbortSignal },
  ): Promise<boolean> {
    if (existsSync(dest)) return true;
    const headers: Record<string, string> = {};
    if (this.hfToken && url.startsWith(this.hfEndpoint + '/')) headers.authorization = `Bearer ${this.hfToken}`;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: opts.signal, redirect: 'follow' });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new DownloadError(`could not download ${url}: offline or unreachable (${describeCause(err)})`);
    }
    if (response.status === 404 && opts.optional) {
      await response.body?.cancel();
      return false;
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      const hint = response.status === 401 || response.status === 403 ? ' (a gated or private repo? set HF_TOKEN)' : '';
      throw new DownloadError(`could not download ${url}: HTTP ${response.status} ${response.statusText}${hint}`.trimEnd());
    }

    // A compressed response's Content-Length counts compressed bytes, so it cannot check the total.
    const declared = response.headers.get('content-encoding') ? NaN : Number(response.headers.get('content-length'));
    const bytesTotal = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
    const file = posix.basename(new URL(url).pathname);
    const hash = opts.sha256 ? createHash('sha256') : undefined;
    const reader = response.body.getReader();
    await mkdir(dirname(dest), { recursive: true });
    await writeFileAtomic(dest, async (out) => {
      let bytesDone = 0;
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (opts.signal?.aborted) throw err;
          throw new DownloadError(`could not download ${url}: connection lost after ${bytesDone} bytes (${describeCause(err)})`);
        }
        if (chunk.done) break;
        await out.write(chunk.value);
        hash?.update(chunk.value);
        bytesDone += chunk.value.length;
        opts.onProgress?.({ file, bytesDone, bytesTotal });
      }
      if (bytesTotal !== undefined && bytesDone !== bytesTotal) {
        throw new DownloadError(`could not download ${url}: got ${bytesDone} of ${bytesTotal} bytes`);
      }
      const digest = hash?.digest('hex');
      if (digest !== undefined && digest !== opts.sha256!.toLowerCase()) {
        throw new DownloadError(`downloaded ${url} but its sha256 ${digest} is not the expected ${opts.sha256}`);
      }
    });
    return true;
  }
}

/** The shard files a safetensors index names, each a plain relative path inside the repo. */
async function shardNames(indexPath: string): Promise<string[]> {
  let weightMap: unknown;
  try {
    weightMap = JSON.parse(await readFile(indexPath, 'utf8')).weight_map;
  } catch (err) {
    throw new DownloadError(`downloaded ${INDEX_FILE} is not valid JSON (${(err as Error).message})`, indexPath);
  }
  if (typeof weightMap !== 'object' || weightMap === null) throw new DownloadError(`downloaded ${INDEX_FILE} has no weight_map`, indexPath);
  const shards = [...new Set(Object.values(weightMap as Record<string, unknown>))];
  for (const s of shards) {
    if (typeof s !== 'string' || s.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new DownloadError(`${INDEX_FILE} names an unsafe shard path ${JSON.stringify(s)}`, indexPath);
    }
  }
  return shards as string[];
}

/** undici reports network failures as "fetch failed" with the system error (ECONNREFUSED, ENOTFOUND...) as the cause. */
function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}
