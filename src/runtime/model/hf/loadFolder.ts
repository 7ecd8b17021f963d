// A Hugging Face model folder -> LoadedModel: config.json, the weights (one model.safetensors,
// or shards listed in model.safetensors.index.json), tokenizer.json, and special tokens from
// tokenizer_config.json / tokenizer.json / config.json. Weights are checked against the config.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { InvalidFileError, UnsupportedError } from '../../errors';
import { parseJsonText } from '../../jsonText';
import type { F32Tensor, LlamaConfig, LoadedModel } from '../description';
import { readSafetensors, readSafetensorsHeader } from '../safetensors/read';
import { checkWeights } from '../weightShapes';
import { parseHfConfig } from './config';
import { hfSpecialTokens } from './specialTokens';

export interface HfLoadOptions {
  readonly signal?: AbortSignal;
  /** Called after each tensor with the weight bytes read so far and in all (all shards together). */
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

const SINGLE_FILE = 'model.safetensors';
const INDEX_FILE = 'model.safetensors.index.json';

export async function loadHfFolder(dir: string, options: HfLoadOptions = {}): Promise<LoadedModel> {
  const configJson = await readJsonObject(dir, 'config.json');
  const config = parseHfConfig(configJson, join(dir, 'config.json'));
  const tokenizerJson = await readJsonObject(dir, 'tokenizer.json');
  if (typeof tokenizerJson.model !== 'object' || tokenizerJson.model === null) {
    throw new InvalidFileError('tokenizer.json has no "model" object', join(dir, 'tokenizer.json'));
  }
  const tokenizerConfig = existsSync(join(dir, 'tokenizer_config.json')) ? await readJsonObject(dir, 'tokenizer_config.json') : undefined;
  const specialTokens = hfSpecialTokens(tokenizerJson, tokenizerConfig, configJson);
  const weights = await readWeights(dir, config, options);
  checkWeights(config, weights, dir);
  return { config, weights, tokenizerJson, specialTokens, source: { format: 'hf', path: dir } };
}

async function readWeights(dir: string, config: LlamaConfig, options: HfLoadOptions): Promise<Map<string, F32Tensor>> {
  const shards = await weightFiles(dir);
  const sizes = await Promise.all(shards.map(async (s) => (await readSafetensorsHeader(s.path)).entries.reduce((n, e) => n + e.end - e.begin, 0)));
  const bytesTotal = sizes.reduce((a, b) => a + b, 0);
  let bytesBefore = 0;
  const weights = new Map<string, F32Tensor>();
  for (const [i, shard] of shards.entries()) {
    const { tensors } = await readSafetensors(shard.path, {
      signal: options.signal,
      onProgress: (done) => options.onProgress?.(bytesBefore + done, bytesTotal),
    });
    bytesBefore += sizes[i]!;
    for (const name of shard.expected ?? []) {
      if (!tensors.has(name)) throw new InvalidFileError(`${INDEX_FILE} lists ${name} in ${basename(shard.path)}, which lacks it`, shard.path);
    }
    for (const [name, tensor] of tensors) {
      if (ignoredWeight(name, config)) continue;
      if (weights.has(name)) throw new InvalidFileError(`weight ${name} appears in more than one shard`, shard.path);
      weights.set(name, tensor);
    }
  }
  return weights;
}

// Rotary tables some exporters store (recomputed from the config), and an lm_head that a
// tied model also stores as a copy of the embedding.
function ignoredWeight(name: string, config: LlamaConfig): boolean {
  return name.endsWith('.rotary_emb.inv_freq') || (config.tieWordEmbeddings && name === 'lm_head.weight');
}

interface WeightFile {
  readonly path: string;
  /** Tensor names the index assigns to this shard. */
  readonly expected?: readonly string[];
}

async function weightFiles(dir: string): Promise<WeightFile[]> {
  if (existsSync(join(dir, INDEX_FILE))) {
    const indexPath = join(dir, INDEX_FILE);
    const weightMap = (await readJsonObject(dir, INDEX_FILE)).weight_map;
    if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
      throw new InvalidFileError('has no "weight_map" object', indexPath);
    }
    const byShard = new Map<string, string[]>();
    for (const [name, file] of Object.entries(weightMap)) {
      if (typeof file !== 'string') throw new InvalidFileError(`weight_map entry ${name} is not a file name`, indexPath);
      byShard.set(file, [...(byShard.get(file) ?? []), name]);
    }
    return [...byShard].map(([file, names]) => ({ path: shardPath(dir, file, indexPath), expected: names }));
  }
  if (existsSync(join(dir, SINGLE_FILE))) return [{ path: join(dir, SINGLE_FILE) }];
  const other = ['pytorch_model.bin', 'model.gguf'].find((f) => existsSync(join(dir, f)));
  if (other) throw new UnsupportedError(`only safetensors weights can be read (found ${other})`, dir);
  throw new InvalidFileError(`missing ${SINGLE_FILE} (or ${INDEX_FILE} with its shards)`, dir);
}

/** A shard named by the index, which must stay inside the model folder. */
function shardPath(dir: string, file: string, indexPath: string): string {
  const root = resolve(dir);
  const path = resolve(root, file);
  if (!path.startsWith(root + sep)) throw new InvalidFileError(`shard "${file}" lies outside the model folder`, indexPath);
  if (!existsSync(path)) throw new InvalidFileError(`missing shard ${file} listed in ${INDEX_FILE}`, dir);
  return path;
}

async function readJsonObject(dir: string, name: string): Promise<Record<string, unknown>> {
  const path = join(dir, name);
  if (!existsSync(path)) throw new InvalidFileError(`missing ${name}`, dir);
  const doc = parseJsonText(await readFile(path, 'utf8'), path);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InvalidFileError('is not a JSON object', path);
  return doc as Record<string, unknown>;
}
