/**
 * Compiled graphs cached on disk, so a large model starts in seconds after its first start.
 *
 * What is cached is the converted graph with its repacked weights (MatMulNBits blocks,
 * transposed float projections) as an ONNX file with external data, the form onnxruntime
 * loads by memory-mapping: a later start reads neither the GGUF tensors into the graph builder
 * nor a serialized ModelProto, and the weights' pages are the file's. (onnxruntime's own
 * optimized-model file is not used: it would store prepacked MatMulNBits weights, whose
 * layout is specific to the machine's CPU features.)
 *
 * An entry is keyed by the model's fingerprint (each file's path, size and modification time:
 * the GGUF file, or the files of a Hugging Face folder), the graph's shape class (which logits,
 * KV cache, loss kind, quantized mode) and the runtime version (this package's version,
 * onnxruntime's, and a digest of the running code, so a changed graph builder never loads a graph
 * an older build wrote under the same version number), hashed into the folder name `sessions/<sha256>` under the cache folder; a
 * change to any of them is a different entry. Entries are written whole in a temporary folder
 * and renamed into place, so a reader never sees a partial one.
 */
import * as ort from 'onnxruntime-node';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { version as packageVersion } from '../../../package.json';
import { writeFolderAtomic } from '../fs/atomicWrite';
import type { Graph } from '../graph/graph';
import { writeModelWithExternalData } from '../graph/serialize';
import { modelCacheDir } from '../model/sources/spec';
import type { LoadedModel } from '../model/description';
import { storedBytes } from '../model/tensor';
import { createOrtSession, type OrtSession, type OrtSessionExtra, type ProviderPreference } from './ortSession';

/**
 * This package's and onnxruntime's versions, and the digest of the file this code runs from
 * (the bundle dist/cli.js or dist/runtimeServer.js holds the whole graph builder): a cached graph
 * is valid for exactly these.
 */
export const RUNTIME_VERSION = `tagllm ${packageVersion} (${codeDigest()}); onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}`;

function codeDigest(): string {
  return createHash('sha256').update(readFileSync(__filename)).digest('hex').slice(0, 16);
}

/**
 * Graphs with fewer weight bytes compile in well under a second from memory; caching them
 * would only write files (every test model, every tiny tag-training run).
 */
export const CACHE_MIN_BYTES = 64 * 2 ** 20;

export interface SessionCacheEntry {
  /** The cache folder (sessions go in its `sessions/` subfolder). */
  readonly cacheDir: string;
  /** The model file or Hugging Face folder the graph's weights come from. */
  readonly modelPath: string;
  /** The graph's shape class, e.g. `decoder logits=last kv=false quantized=fast`. */
  readonly graphKey: string;
  readonly runtimeVersion: string;
}

export interface CachedSession extends OrtSession {
  readonly fromCache: boolean;
}

/**
 * The session of the cached graph for `entry`, or, on a miss, of the graph `build` makes,
 * written to the cache first.
 */
export async function openCachedSession(entry: SessionCacheEntry, build: () => Graph, preference: ProviderPreference, extra?: OrtSessionExtra): Promise<CachedSession> {
  const folder = join(entry.cacheDir, 'sessions', cacheKey(entry));
  const modelFile = join(folder, 'model.onnx');
  if (existsSync(modelFile)) return { ...(await createOrtSession(modelFile, preference, extra)), fromCache: true };
  const graph = build();
  mkdirSync(dirname(folder), { recursive: true });
  await writeFolderAtomic(folder, async (tmp) => writeModelWithExternalData(graph, join(tmp, 'model.onnx')));
  return { ...(await createOrtSession(modelFile, preference, extra)), fromCache: false };
}

/** The default cache entry of a model loaded from disk whose graph is worth caching; else undefined. */
export function defaultCacheEntry(model: LoadedModel, graphKey: string): SessionCacheEntry | undefined {
  if (model.source.format === 'random') return undefined;
  let bytes = 0;
  for (const t of model.weights.values()) bytes += storedBytes(t);
  if (bytes < CACHE_MIN_BYTES) return undefined;
  return { cacheDir: modelCacheDir(), modelPath: model.source.path, graphKey, runtimeVersion: RUNTIME_VERSION };
}

/** sha256 of the model's files (path, size, mtime), the graph key and the runtime version. */
export function cacheKey(entry: SessionCacheEntry): string {
  const path = resolve(entry.modelPath);
  const files = statSync(path).isDirectory() ? readdirSync(path).sort().map((f) => join(path, f)) : [path];
  const fingerprint = files.map((f) => {
    const s = statSync(f);
    return [f, s.size, s.mtimeMs];
  });
  return createHash('sha256').update(JSON.stringify({ fingerprint, graph: entry.graphKey, runtime: entry.runtimeVersion })).digest('hex');
}
