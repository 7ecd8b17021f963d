// A tag bundle on disk is a folder: `tags.safetensors` (tag.<X> [p, H], head.<X>.weight
// [k, H], head.<X>.bias [k]) and `tagbundle.json` (TagBundleMeta). Saving writes a complete
// folder under a temporary name and renames it into place, so a reader never meets half a
// bundle. Loading checks everything, and refuses a bundle made for another model before
// reading its tensors.
import { existsSync, statSync } from 'node:fs';
import { readFile, mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidFileError } from '../errors';
import { parseJsonText } from '../jsonText';
import type { F32Tensor } from '../model/description';
import { writeBytesAtomic, writeFolderAtomic } from '../fs/atomicWrite';
import { readSafetensors } from '../model/safetensors/read';
import { writeSafetensors } from '../model/safetensors/write';
import { checkTagBundle, parseTagBundleMeta, type TagBundle } from './bundle';
import { requireSameModel, type ModelFingerprint } from './fingerprint';
import type { LinearHead } from './head';
import { isTagName, type TagName, type TagValue } from './name';
import type { SourcedTagBundle } from './registry';

export const TAGS_FILE = 'tags.safetensors';
export const META_FILE = 'tagbundle.json';

/** Writes `bundle` as the folder `dir`, replacing any bundle already there. */
export async function saveTagBundle(dir: string, bundle: TagBundle): Promise<void> {
  const target = resolve(dir);
  checkTagBundle(bundle, target);
  await mkdir(dirname(target), { recursive: true });
  await writeFolderAtomic(target, async (tmp) => {
    await writeSafetensors(join(tmp, TAGS_FILE), bundleTensors(bundle), { format: bundle.meta.format });
    // Both files are flushed to disk (writeBytesAtomic fsyncs) before the folder is renamed into place.
    await writeBytesAtomic(join(tmp, META_FILE), [new TextEncoder().encode(JSON.stringify(bundle.meta, null, 2) + '\n')]);
  });
}

function bundleTensors(bundle: TagBundle): Map<string, F32Tensor> {
  const tensors = new Map<string, F32Tensor>();
  for (const [name, value] of bundle.values) tensors.set(`tag.${name}`, { shape: [value.p, value.hiddenSize], data: value.data });
  for (const [name, head] of bundle.heads) {
    tensors.set(`head.${name}.weight`, { shape: [head.outputs, head.hiddenSize], data: head.weight });
    tensors.set(`head.${name}.bias`, { shape: [head.outputs], data: head.bias });
  }
  return tensors;
}

/**
 * Reads the bundle folder at `path` (or the folder of a tagbundle.json / tags.safetensors
 * path). With `model`, a bundle whose recorded base model differs is refused.
 */
export async function loadTagBundle(path: string, model?: ModelFingerprint): Promise<SourcedTagBundle> {
  const dir = bundleFolder(path);
  const metaPath = join(dir, META_FILE);
  let text: string;
  try {
    text = await readFile(metaPath, 'utf8');
  } catch (err) {
    throw new InvalidFileError(`not a tag bundle: cannot read ${META_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, dir);
  }
  const meta = parseTagBundleMeta(parseJsonText(text, metaPath), metaPath);
  if (model) requireSameModel(meta.baseModel, model, dir);
  const tensorsPath = join(dir, TAGS_FILE);
  if (!existsSync(tensorsPath)) throw new InvalidFileError(`incomplete tag bundle: ${TAGS_FILE} is missing`, dir);
  const { tensors } = await readSafetensors(tensorsPath);
  const values = new Map<TagName, TagValue>();
  const heads = new Map<TagName, LinearHead>();
  const fail = (message: string): never => {
    throw new InvalidFileError(message, tensorsPath);
  };
  for (const [key, tensor] of tensors) {
    const match = /^(tag|head)\.(<[^>]*>)(\.weight|\.bias)?$/.exec(key);
    if (!match || !isTagName(match[2])) fail(`unexpected tensor "${key}" (a bundle holds tag.<X>, head.<X>.weight and head.<X>.bias)`);
    const [, kind, name, part] = match!;
    const tag = name as TagName;
    if (kind === 'tag' && part === undefined) {
      if (tensor.shape.length !== 2) fail(`${key} has shape [${tensor.shape.join(', ')}], expected [p, hidden]`);
      values.set(tag, { p: tensor.shape[0], hiddenSize: tensor.shape[1], data: tensor.data });
    } else if (kind === 'head' && part === '.weight') {
      if (tensor.shape.length !== 2) fail(`${key} has shape [${tensor.shape.join(', ')}], expected [outputs, hidden]`);
      const bias = tensors.get(`head.${tag}.bias`) ?? fail(`${key} has no head.${tag}.bias`);
      if (bias.shape.length !== 1) fail(`head.${tag}.bias has shape [${bias.shape.join(', ')}], expected [outputs]`);
      heads.set(tag, { outputs: tensor.shape[0], hiddenSize: tensor.shape[1], weight: tensor.data, bias: bias.data });
    } else if (!(kind === 'head' && part === '.bias')) {
      fail(`unexpected tensor "${key}"`);
    }
  }
  for (const key of tensors.keys()) {
    const bias = /^head\.(.*)\.bias$/.exec(key);
    if (bias && !tensors.has(`head.${bias[1]}.weight`)) fail(`${key} has no head.${bias[1]}.weight`);
  }
  const bundle: TagBundle = { meta, values, heads };
  checkTagBundle(bundle, dir);
  return { path: dir, bundle };
}

function bundleFolder(path: string): string {
  const full = resolve(path);
  const name = basename(full);
  if ((name === META_FILE || name === TAGS_FILE) && !isFolder(full)) return dirname(full);
  return full;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
