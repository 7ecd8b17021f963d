// A tag bundle as a PEFT adapter and back. PEFT's TrainableTokens method replaces chosen rows
// of the input embedding table (its `trainable_tokens_delta` holds the new rows themselves, not
// differences); a tag of p vectors becomes p tokens added after the model's vocabulary, named
// `<Tag>.0` … `<Tag>.{p-1}`, whose rows are the tag's vectors. transformers then runs the tags
// as ordinary tokens: resize the embeddings to the tokenizer's length, load the adapter, and
// put the tag's tokens where the template has the tag. The template's boundary rule tokenizes
// each text run on its own (src/runtime/tags/template.ts); a whole prompt string through the
// tokenizer can differ from that by a leading-space piece after a tag (SentencePiece), so the
// ids are best built run by run, as python/tagllm_torch/expand.py does.
//
// PEFT has no place for heads or for what tagbundle.json records, so the adapter folder also
// holds `tagllm.json` (the bundle's metadata and the token names) and, for function tags,
// `tagllm_heads.safetensors`: importing that folder gives back the bundle bit for bit. An
// adapter without them (tags trained with PEFT elsewhere) imports as domain tags, found by the
// token names.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InvalidFileError, ShapeMismatchError, UsageError } from '../errors';
import { writeFolderAtomic } from '../fs/atomicWrite';
import type { F32Tensor, LoadedModel } from '../model/description';
import { readSafetensors } from '../model/safetensors/read';
import { writeSafetensors } from '../model/safetensors/write';
import { checkTagBundle, makeTagBundle, parseTagBundleMeta, type TagBundle } from './bundle';
import { modelFingerprint, requireSameModel } from './fingerprint';
import type { LinearHead } from './head';
import { isTagName, type TagName, type TagValue } from './name';

export const PEFT_CONFIG = 'adapter_config.json';
export const PEFT_WEIGHTS = 'adapter_model.safetensors';
export const PEFT_SIDECAR = 'tagllm.json';
export const PEFT_HEADS = 'tagllm_heads.safetensors';
/** PEFT's key for a TrainableTokens adapter on a Llama-family model's embed_tokens. */
export const PEFT_DELTA_KEY = 'base_model.model.model.embed_tokens.trainable_tokens_delta';
const SIDECAR_FORMAT = 'tagllm.peft-tags';
const TAG_TOKEN = /^(<[A-Za-z][A-Za-z0-9_-]{0,63}>)\.(\d+)$/;

/** The token names of a tag's p vectors. */
export function tagTokens(tag: TagName, p: number): string[] {
  return Array.from({ length: p }, (_, k) => `${tag}.${k}`);
}

/** Writes `bundle` (made for `model`) as a PEFT TrainableTokens adapter folder `outDir`. */
export async function exportPeftAdapter(model: LoadedModel, bundle: TagBundle, outDir: string): Promise<{ tokens: Record<string, string[]>; tokenIndices: number[] }> {
  requireSameModel(bundle.meta.baseModel, modelFingerprint(model), outDir);
  const { vocabSize, hiddenSize } = model.config;
  const names = Object.keys(bundle.meta.tags) as TagName[];
  const tokens: Record<string, string[]> = {};
  const rows: Float32Array[] = [];
  for (const name of names) {
    const value = bundle.values.get(name)!;
    tokens[name] = tagTokens(name, value.p);
    for (let k = 0; k < value.p; k++) rows.push(value.data.subarray(k * hiddenSize, (k + 1) * hiddenSize));
  }
  const tokenIndices = rows.map((_, k) => vocabSize + k);
  const delta = new Float32Array(rows.length * hiddenSize);
  rows.forEach((row, k) => delta.set(row, k * hiddenSize));
  const heads = new Map<string, F32Tensor>();
  for (const [name, head] of bundle.heads) {
    heads.set(`head.${name}.weight`, { shape: [head.outputs, head.hiddenSize], data: head.weight });
    heads.set(`head.${name}.bias`, { shape: [head.outputs], data: head.bias });
  }
  const flatTokens = names.flatMap((n) => tokens[n]);
  const tokenizerJson = withAddedTokens(model.tokenizerJson, flatTokens, vocabSize);
  await mkdir(dirname(resolve(outDir)), { recursive: true });
  await writeFolderAtomic(resolve(outDir), async (tmp) => {
    const json = (name: string, doc: unknown) => writeFile(join(tmp, name), JSON.stringify(doc, null, 2) + '\n');
    await json(PEFT_CONFIG, {
      peft_type: 'TRAINABLE_TOKENS',
      task_type: null,
      base_model_name_or_path: model.source.path,
      revision: null,
      inference_mode: true,
      target_modules: ['embed_tokens'],
      token_indices: tokenIndices,
      init_weights: true,
    });
    await writeSafetensors(join(tmp, PEFT_WEIGHTS), new Map([[PEFT_DELTA_KEY, { shape: [rows.length, hiddenSize], data: delta }]]), { format: 'pt' });
    await json('tokenizer.json', tokenizerJson);
    await json(PEFT_SIDECAR, { format: SIDECAR_FORMAT, formatVersion: 1, tokens, bundle: bundle.meta });
    if (heads.size > 0) await writeSafetensors(join(tmp, PEFT_HEADS), heads, { format: 'pt' });
  });
  return { tokens, tokenIndices };
}

/** The model's tokenizer.json with the tag tokens added as special tokens that strip the whitespace beside them. */
function withAddedTokens(tokenizerJson: Record<string, unknown>, tokens: readonly string[], firstId: number): Record<string, unknown> {
  const added = (tokenizerJson.added_tokens as { id: number }[] | undefined) ?? [];
  const clash = added.find((t) => t.id >= firstId);
  if (clash) throw new UsageError(`the tokenizer already has an added token with id ${clash.id} at or past the vocabulary size ${firstId}`);
  return {
    ...tokenizerJson,
    added_tokens: [
      ...added,
      ...tokens.map((content, k) => ({ id: firstId + k, content, single_word: false, lstrip: true, rstrip: true, normalized: false, special: true })),
    ],
  };
}

/** Reads a PEFT TrainableTokens adapter folder as a tag bundle for `model`. */
export async function importPeftAdapter(model: LoadedModel, adapterDir: string): Promise<TagBundle> {
  const where = resolve(adapterDir);
  const readJson = async (name: string): Promise<Record<string, unknown>> => {
    const path = join(where, name);
    try {
      return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new InvalidFileError(`cannot read ${name} (${(err as Error).message})`, path);
    }
  };
  const config = await readJson(PEFT_CONFIG);
  if (config.peft_type !== 'TRAINABLE_TOKENS') throw new InvalidFileError(`a ${String(config.peft_type)} adapter holds no trainable tokens; tags import from TRAINABLE_TOKENS adapters`, join(where, PEFT_CONFIG));
  const indices = config.token_indices;
  if (!Array.isArray(indices) || !indices.every((i) => Number.isInteger(i))) throw new InvalidFileError('token_indices must be a list of token ids', join(where, PEFT_CONFIG));
  const { tensors } = await readSafetensors(join(where, PEFT_WEIGHTS));
  const deltaKey = [...tensors.keys()].find((k) => k.endsWith('trainable_tokens_delta'));
  if (!deltaKey) throw new InvalidFileError('no trainable_tokens_delta tensor', join(where, PEFT_WEIGHTS));
  const delta = tensors.get(deltaKey)!;
  const hidden = model.config.hiddenSize;
  if (delta.shape[0] !== indices.length || delta.shape[1] !== hidden) {
    throw new ShapeMismatchError(`${deltaKey} has shape [${delta.shape.join(', ')}], expected [${indices.length}, ${hidden}]`, join(where, PEFT_WEIGHTS));
  }
  const rowOfToken = new Map<number, Float32Array>((indices as number[]).map((id, k) => [id, delta.data.subarray(k * hidden, (k + 1) * hidden)]));
  const tokenIds = await tokenIdsByName(where);
  const rowsOf = (tokens: readonly string[], tag: string): Float32Array => {
    const data = new Float32Array(tokens.length * hidden);
    tokens.forEach((token, k) => {
      const id = tokenIds.get(token);
      const row = id === undefined ? undefined : rowOfToken.get(id);
      if (!row) throw new InvalidFileError(`token ${token} of ${tag} is not among the adapter's trainable tokens`, where);
      data.set(row, k * hidden);
    });
    return data;
  };
  const fingerprint = modelFingerprint(model);

  if (existsSync(join(where, PEFT_SIDECAR))) {
    const sidecar = await readJson(PEFT_SIDECAR);
    if (sidecar.format !== SIDECAR_FORMAT) throw new InvalidFileError(`not a ${SIDECAR_FORMAT} file`, join(where, PEFT_SIDECAR));
    const meta = parseTagBundleMeta(sidecar.bundle, join(where, PEFT_SIDECAR));
    requireSameModel(meta.baseModel, fingerprint, where);
    const tokens = sidecar.tokens as Record<string, string[]>;
    const values = new Map<TagName, TagValue>();
    for (const name of Object.keys(meta.tags) as TagName[]) values.set(name, { p: meta.p, hiddenSize: hidden, data: rowsOf(tokens[name] ?? [], name) });
    const heads = new Map<TagName, LinearHead>();
    if (existsSync(join(where, PEFT_HEADS))) {
      const read = (await readSafetensors(join(where, PEFT_HEADS))).tensors;
      for (const [key, weight] of read) {
        const match = /^head\.(<[^>]*>)\.weight$/.exec(key);
        if (!match) continue;
        const bias = read.get(`head.${match[1]}.bias`);
        if (!bias) throw new InvalidFileError(`head.${match[1]}.bias is missing`, join(where, PEFT_HEADS));
        heads.set(match[1] as TagName, { outputs: weight.shape[0], hiddenSize: weight.shape[1], weight: weight.data, bias: bias.data });
      }
    }
    // the metadata as the bundle wrote it (bundle.ts's parser keeps the fields this build knows)
    const bundle: TagBundle = { meta: { ...meta, ...(sidecar.bundle as object) } as TagBundle['meta'], values, heads };
    checkTagBundle(bundle, where);
    return bundle;
  }

  const byTag = new Map<TagName, string[]>();
  for (const token of [...tokenIds.keys()].sort((a, b) => tokenIds.get(a)! - tokenIds.get(b)!)) {
    const match = TAG_TOKEN.exec(token);
    if (!match || !isTagName(match[1])) continue;
    const list = byTag.get(match[1] as TagName) ?? [];
    list.push(token);
    byTag.set(match[1] as TagName, list);
  }
  if (byTag.size === 0) throw new InvalidFileError('no tag tokens (named <Tag>.0, <Tag>.1, …) in tokenizer.json', where);
  const entries = [...byTag].map(([name, tokens]) => {
    if (!tokens.every((t, k) => t === `${name}.${k}`)) throw new InvalidFileError(`the tokens of ${name} are not numbered 0..${tokens.length - 1}`, where);
    return { name, kind: 'domain' as const, description: `${name.slice(1, -1)} (imported from a PEFT adapter)`, value: { p: tokens.length, hiddenSize: hidden, data: rowsOf(tokens, name) } };
  });
  return makeTagBundle(fingerprint, entries);
}

/** The adapter's tokenizer.json: every added token's id by name. */
async function tokenIdsByName(where: string): Promise<Map<string, number>> {
  const path = join(where, 'tokenizer.json');
  let doc: { added_tokens?: { id?: unknown; content?: unknown }[] };
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new InvalidFileError(`cannot read the adapter's tokenizer.json, which names the tag tokens (${(err as Error).message})`, path);
  }
  const ids = new Map<string, number>();
  for (const t of doc.added_tokens ?? []) if (typeof t.content === 'string' && typeof t.id === 'number') ids.set(t.content, t.id);
  return ids;
}
