// A tag bundle in memory: tag values, heads, and the metadata of tagbundle.json. This module
// only builds and checks bundles; bundleFiles.ts reads and writes them.
import { version as libraryVersion } from '../../../package.json';
import { InvalidFileError } from '../errors';
import { quote } from '../safeText';
import type { ModelFingerprint } from './fingerprint';
import type { LinearHead } from './head';
import { isTagName, type TagKind, type TagName, type TagValue } from './name';
import { lastTag, parseTemplate } from './template';

export const TAG_BUNDLE_FORMAT = 'tagllm.tagbundle';
/**
 * 2: heads read the mean of the function tag's p hidden states (src/runtime/tags/readout.ts).
 * Version 1 heads read only the last one, so a version-1 head would be applied to the wrong
 * readout; version-1 bundles without heads (domain tags) are still read.
 */
export const TAG_BUNDLE_FORMAT_VERSION = 2;
const LAST_VECTOR_READOUT_VERSION = 1;

/** One output of a function tag's head, and how it maps back to the target's units. */
export interface HeadOutputMeta {
  readonly name: string;
  readonly units: string;
  readonly targetMean: number;
  readonly targetStd: number;
}

/** Free-form facts about how a tag was trained (data file, rows, stage, epochs...), kept as JSON. */
export type TrainingSummary = Readonly<Record<string, string | number | boolean | null>>;

export interface TagMeta {
  readonly kind: TagKind;
  /** For a function tag, what it predicts as it reads in a sentence ("quantitative estimate of druglikeness score"). */
  readonly description: string;
  /** Function tags: the template text the tag was trained in, ending with the tag. */
  readonly template?: string;
  /** Function tags with a regression head: one entry per head output. */
  readonly outputs?: readonly HeadOutputMeta[];
  readonly training?: TrainingSummary;
  readonly metrics?: Readonly<Record<string, number>>;
}

/** The content of tagbundle.json. */
export interface TagBundleMeta {
  readonly format: typeof TAG_BUNDLE_FORMAT;
  readonly formatVersion: number;
  readonly libraryVersion: string;
  readonly createdAt: string;
  readonly p: number;
  readonly hiddenSize: number;
  readonly baseModel: ModelFingerprint;
  readonly tags: Readonly<Record<string, TagMeta>>;
}

export interface TagBundle {
  readonly meta: TagBundleMeta;
  readonly values: ReadonlyMap<TagName, TagValue>;
  readonly heads: ReadonlyMap<TagName, LinearHead>;
}

/** A tag as training hands it over. */
export interface TagEntry extends TagMeta {
  readonly name: TagName;
  readonly value: TagValue;
  readonly head?: LinearHead;
}

export function makeTagBundle(baseModel: ModelFingerprint, entries: readonly TagEntry[]): TagBundle {
  if (entries.length === 0) throw new RangeError('a tag bundle needs at least one tag');
  const tags: Record<string, TagMeta> = {};
  const values = new Map<TagName, TagValue>();
  const heads = new Map<TagName, LinearHead>();
  for (const { name, value, head, ...meta } of entries) {
    if (Object.hasOwn(tags, name)) throw new RangeError(`tag ${name} appears twice`);
    tags[name] = meta;
    values.set(name, value);
    if (head) heads.set(name, head);
  }
  const bundle: TagBundle = {
    meta: {
      format: TAG_BUNDLE_FORMAT,
      formatVersion: TAG_BUNDLE_FORMAT_VERSION,
      libraryVersion,
      createdAt: new Date().toISOString(),
      p: entries[0].value.p,
      hiddenSize: baseModel.hiddenSize,
      baseModel,
      tags,
    },
    values,
    heads,
  };
  checkTagBundle(bundle, '(new bundle)');
  return bundle;
}

/**
 * Checks that the metadata and the tensors agree: every tag has a [p, H] value, every head
 * output has its row and its scale, heads exist only on function tags, and all numbers are
 * finite. `where` names the bundle in the error.
 */
export function checkTagBundle(bundle: TagBundle, where: string): void {
  const { meta } = bundle;
  const fail = (message: string): never => {
    throw new InvalidFileError(message, where);
  };
  const names = Object.keys(meta.tags);
  if (names.length === 0) fail('the bundle holds no tags');
  for (const name of names) {
    if (!isTagName(name)) fail(`"${name}" is not a tag name`);
    const tag = name as TagName;
    const info = meta.tags[tag];
    const value = bundle.values.get(tag) ?? fail(`tag ${tag} has no tensor tag.${tag}`);
    if (value.p !== meta.p || value.hiddenSize !== meta.hiddenSize || value.data.length !== meta.p * meta.hiddenSize) {
      fail(`tag.${tag} has shape [${value.p}, ${value.hiddenSize}], the bundle says [${meta.p}, ${meta.hiddenSize}]`);
    }
    checkFinite(value.data, `tag.${tag}`, where);
    const head = bundle.heads.get(tag);
    if (info.kind === 'domain') {
      if (head || info.outputs) fail(`domain tag ${tag} has a head; only function tags read out through heads`);
      continue;
    }
    if (info.template !== undefined) {
      const template = parseTemplate(info.template);
      if (lastTag(template) !== tag) fail(`function tag ${tag} must be the last tag of its template "${info.template}"`);
    }
    if (!head && !info.outputs) continue;
    if (!head) fail(`function tag ${tag} lists outputs but has no head.${tag}.weight`);
    if (!info.outputs) fail(`head.${tag} has no outputs in tagbundle.json`);
    const outputs = info.outputs!;
    if (head!.outputs !== outputs.length || head!.hiddenSize !== meta.hiddenSize) {
      fail(`head.${tag}.weight has shape [${head!.outputs}, ${head!.hiddenSize}], expected [${outputs.length}, ${meta.hiddenSize}]`);
    }
    if (head!.weight.length !== head!.outputs * head!.hiddenSize || head!.bias.length !== head!.outputs) {
      fail(`head.${tag} weight or bias has the wrong number of values`);
    }
    checkFinite(head!.weight, `head.${tag}.weight`, where);
    checkFinite(head!.bias, `head.${tag}.bias`, where);
    for (const out of outputs) {
      if (!Number.isFinite(out.targetMean) || !(out.targetStd > 0) || !Number.isFinite(out.targetStd)) {
        fail(`head.${tag} output "${out.name}" needs a finite target mean and a positive finite std`);
      }
    }
  }
  for (const tag of bundle.values.keys()) if (!Object.hasOwn(meta.tags, tag)) fail(`tensor tag.${tag} is not described in tagbundle.json`);
  for (const tag of bundle.heads.keys()) if (!Object.hasOwn(meta.tags, tag)) fail(`tensor head.${tag} is not described in tagbundle.json`);
}

function checkFinite(data: Float32Array, name: string, where: string): void {
  const bad = data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new InvalidFileError(`${name} holds a non-finite value (${data[bad]}) at index ${bad}`, where);
}

/** Reads tagbundle.json's parsed JSON, checking every field's type; `where` names the file. */
export function parseTagBundleMeta(json: unknown, where: string): TagBundleMeta {
  const fail = (message: string): never => {
    throw new InvalidFileError(message, where);
  };
  const root = asObject(json) ?? fail('not a JSON object');
  if (root.format !== TAG_BUNDLE_FORMAT) fail(`not a tag bundle (format is ${JSON.stringify(root.format)}, expected "${TAG_BUNDLE_FORMAT}")`);
  if (root.formatVersion !== TAG_BUNDLE_FORMAT_VERSION && root.formatVersion !== LAST_VECTOR_READOUT_VERSION) {
    fail(`format version ${JSON.stringify(root.formatVersion)} is not supported (this build reads ${LAST_VECTOR_READOUT_VERSION} and ${TAG_BUNDLE_FORMAT_VERSION})`);
  }
  const count = (key: string, value: unknown): number => (Number.isInteger(value) && (value as number) > 0 ? (value as number) : fail(`${key} must be a positive integer`));
  const text = (key: string, value: unknown): string => (typeof value === 'string' ? value : fail(`${key} must be a string`));
  const base = asObject(root.baseModel) ?? fail('baseModel is missing');
  const tagsJson = asObject(root.tags) ?? fail('tags is missing');
  const tags: Record<string, TagMeta> = {};
  for (const [name, raw] of Object.entries(tagsJson)) {
    // before the name is used as a key: `__proto__` would set the prototype instead
    if (!isTagName(name)) fail(`${quote(name)} is not a tag name`);
    const t = asObject(raw) ?? fail(`tags.${name} must be an object`);
    if (t.kind !== 'domain' && t.kind !== 'function') fail(`tags.${name}.kind must be "domain" or "function"`);
    const outputs = t.outputs === undefined ? undefined : Array.isArray(t.outputs) ? t.outputs : fail(`tags.${name}.outputs must be a list`);
    tags[name] = {
      kind: t.kind as TagKind,
      description: text(`tags.${name}.description`, t.description),
      ...(t.template !== undefined && { template: text(`tags.${name}.template`, t.template) }),
      ...(outputs && {
        outputs: outputs.map((o, i) => {
          const out = asObject(o) ?? fail(`tags.${name}.outputs[${i}] must be an object`);
          // JSON can spell infinity (1e999); a scale must be finite
          const num = (key: string) => (typeof out[key] === 'number' && Number.isFinite(out[key]) ? (out[key] as number) : fail(`tags.${name}.outputs[${i}].${key} must be a finite number`));
          return { name: text(`tags.${name}.outputs[${i}].name`, out.name), units: text(`tags.${name}.outputs[${i}].units`, out.units), targetMean: num('targetMean'), targetStd: num('targetStd') };
        }),
      }),
      ...(t.training !== undefined && { training: (asObject(t.training) ?? fail(`tags.${name}.training must be an object`)) as TrainingSummary }),
      ...(t.metrics !== undefined && { metrics: numberRecord(t.metrics) ?? fail(`tags.${name}.metrics must map names to numbers`) }),
    };
  }
  const withHead = Object.keys(tags).find((name) => tags[name].outputs !== undefined);
  if (root.formatVersion === LAST_VECTOR_READOUT_VERSION && withHead) {
    fail(`format version 1: the head of ${withHead} reads only the last vector of its tag, and this build reads the mean of all of them; retrain ${withHead} (tagllm train --tags with this bundle keeps its domain tags)`);
  }
  return {
    format: TAG_BUNDLE_FORMAT,
    formatVersion: TAG_BUNDLE_FORMAT_VERSION,
    libraryVersion: text('libraryVersion', root.libraryVersion),
    createdAt: text('createdAt', root.createdAt),
    p: count('p', root.p),
    hiddenSize: count('hiddenSize', root.hiddenSize),
    baseModel: {
      architecture: text('baseModel.architecture', base.architecture),
      hiddenSize: count('baseModel.hiddenSize', base.hiddenSize),
      vocabSize: count('baseModel.vocabSize', base.vocabSize),
      embeddingSha256: /^[0-9a-f]{64}$/.test(String(base.embeddingSha256)) ? String(base.embeddingSha256) : fail('baseModel.embeddingSha256 must be 64 hex digits'),
    },
    tags,
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function numberRecord(value: unknown): Record<string, number> | undefined {
  const obj = asObject(value);
  return obj && Object.values(obj).every((v) => typeof v === 'number') ? (obj as Record<string, number>) : undefined;
}
