// A tag bundle in memory: tag values, heads, and the metadata of tagbundle.json. This module
// only builds and checks bundles; bundleFiles.ts reads and writes them.
import { version as libraryVersion } from '../../../package.json';
import { InvalidFileError } from '../errors';
import { quote } from '../safeText';
import type { ApplicabilityDomain } from './domain';
import type { ModelFingerprint } from './fingerprint';
import type { ApprovedDistribution } from './percentile';
import type { LinearHead } from './head';
import { QUANTILE_COUNT } from './percentile';
import { isTagName, type TagKind, type TagName, type TagValue } from './name';
import { lastTag, outputSlot, parseTemplate } from './template';

export const TAG_BUNDLE_FORMAT = 'tagllm.tagbundle';
/**
 * 2: heads read the mean of the function tag's p hidden states (src/runtime/tags/readout.ts).
 * Version 1 heads read only the last one, so a version-1 head would be applied to the wrong
 * readout; version-1 bundles without heads (domain tags) are still read.
 * 3: additive, every new field optional, so version-2 bundles read as they are (without evidence):
 *    tags.<X>.task ("regression" when absent, or "classification": the head's outputs are
 *    logits of binary tasks, shown as probabilities); tags.<X>.evidence (TagEvidence: the test
 *    metric beside the baselines on the same split); tags.<X>.domain (ApplicabilityDomain,
 *    src/runtime/tags/domain.ts); outputs[k].range (training labels' [min, max]),
 *    outputs[k].bounds (a known valid range, e.g. QED in [0, 1]) and outputs[k].approved
 *    (ApprovedDistribution, src/runtime/tags/percentile.ts). Readers that do not know a field
 *    ignore it, so other additive fields (other tag kinds) can join the same version.
 */
export const TAG_BUNDLE_FORMAT_VERSION = 3;
const READABLE_VERSIONS = [1, 2, 3];
const LAST_VECTOR_READOUT_VERSION = 1;

export type TagTask = 'regression' | 'classification';

/** How far to trust a function tag: its test metric beside every baseline's on the same split. */
export interface TagEvidence {
  /** The metric's key in the training report: "rmse" (regression) or "auroc" (classification). */
  readonly metric: string;
  readonly value: number;
  /** Each baseline's value of the same metric, by the report's baseline name. */
  readonly baselines: Readonly<Record<string, number>>;
  /** The name of the best of `baselines`. */
  readonly best: string;
  /** The data set, as a short name ("ESOL"). */
  readonly dataset: string;
  readonly nTest: number;
  readonly nTrain: number;
}

/** One output of a function tag's head, and how it maps back to the target's units. */
export interface HeadOutputMeta {
  readonly name: string;
  readonly units: string;
  readonly targetMean: number;
  readonly targetStd: number;
  /** Format 3, regression: the training labels' [min, max]. */
  readonly range?: readonly [number, number];
  /** Format 3: the values the quantity can take at all (QED in [0, 1]); an end may be null (unbounded). */
  readonly bounds?: readonly [number | null, number | null];
  /** Format 3: the distribution of this output's predictions on approved drugs. */
  readonly approved?: ApprovedDistribution;
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
  /**
   * 'text': a function tag that writes text through the model's own LM head (no head of its
   * own); its template ends with the output slot after the tag (template.ts outputSlot).
   */
  readonly output?: 'text';
  readonly training?: TrainingSummary;
  readonly metrics?: Readonly<Record<string, number>>;
  /** Format 3; absent means regression. */
  readonly task?: TagTask;
  readonly evidence?: TagEvidence;
  readonly domain?: ApplicabilityDomain;
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
      if (info.output === 'text' && outputSlot(template) === undefined) fail(`text-output tag ${tag} needs a template that ends with its output slot, e.g. "${tag} {output}"`);
    }
    if (info.output === 'text' && (head || info.outputs)) fail(`text-output tag ${tag} has a head; it writes text through the model's LM head`);
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
  if (!READABLE_VERSIONS.includes(root.formatVersion as number)) {
    fail(`format version ${JSON.stringify(root.formatVersion)} is not supported (this build reads ${READABLE_VERSIONS.join(', ')})`);
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
      ...(t.output !== undefined && { output: t.output === 'text' ? ('text' as const) : fail(`tags.${name}.output must be "text"`) }),
      ...(t.template !== undefined && { template: text(`tags.${name}.template`, t.template) }),
      ...(outputs && {
        outputs: outputs.map((o, i) => {
          const out = asObject(o) ?? fail(`tags.${name}.outputs[${i}] must be an object`);
          // JSON can spell infinity (1e999); a scale must be finite
          const num = (key: string) => (typeof out[key] === 'number' && Number.isFinite(out[key]) ? (out[key] as number) : fail(`tags.${name}.outputs[${i}].${key} must be a finite number`));
          const where = `tags.${name}.outputs[${i}]`;
          return {
            name: text(`${where}.name`, out.name), units: text(`${where}.units`, out.units), targetMean: num('targetMean'), targetStd: num('targetStd'),
            ...(out.range !== undefined && { range: pair(out.range, false) ?? fail(`${where}.range must be [min, max]`) }),
            ...(out.bounds !== undefined && { bounds: pair(out.bounds, true) ?? fail(`${where}.bounds must be [low or null, high or null]`) }),
            ...(out.approved !== undefined && { approved: approvedOf(out.approved) ?? fail(`${where}.approved must hold source, n and ${QUANTILE_COUNT} increasing quantiles`) }),
          } as HeadOutputMeta;
        }),
      }),
      ...(t.training !== undefined && { training: (asObject(t.training) ?? fail(`tags.${name}.training must be an object`)) as TrainingSummary }),
      ...(t.metrics !== undefined && { metrics: numberRecord(t.metrics) ?? fail(`tags.${name}.metrics must map names to numbers`) }),
      ...(t.task !== undefined && { task: t.task === 'regression' || t.task === 'classification' ? t.task : fail(`tags.${name}.task must be "regression" or "classification"`) }),
      ...(t.evidence !== undefined && { evidence: evidenceOf(t.evidence) ?? fail(`tags.${name}.evidence must hold metric, value, baselines, best, dataset, nTest and nTrain`) }),
      ...(t.domain !== undefined && { domain: domainOf(t.domain) ?? fail(`tags.${name}.domain must hold sketch (morgan or kmer), bits, count, fingerprints (base64 of count × bits / 8 bytes) and threshold`) }),
    };
  }
  const withHead = Object.keys(tags).find((name) => tags[name].outputs !== undefined);
  if (root.formatVersion === LAST_VECTOR_READOUT_VERSION && withHead) {
    fail(`format version 1: the head of ${withHead} reads only the last vector of its tag, and this build reads the mean of all of them; retrain ${withHead} (tagllm train --tags with this bundle keeps its domain tags)`);
  }
  return {
    format: TAG_BUNDLE_FORMAT,
    formatVersion: root.formatVersion as number,
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

function pair(value: unknown, nullable: boolean): [number, number] | [number | null, number | null] | undefined {
  const ok = (v: unknown) => (typeof v === 'number' && Number.isFinite(v)) || (nullable && v === null);
  return Array.isArray(value) && value.length === 2 && value.every(ok) ? (value as [number, number]) : undefined;
}

function approvedOf(value: unknown): ApprovedDistribution | undefined {
  const o = asObject(value);
  if (!o || typeof o.source !== 'string' || !Number.isInteger(o.n) || !Array.isArray(o.quantiles)) return undefined;
  const q = o.quantiles;
  const fine = q.length === QUANTILE_COUNT && q.every((v, i) => typeof v === 'number' && Number.isFinite(v) && (i === 0 || v >= q[i - 1]));
  return fine ? { source: o.source, n: o.n as number, quantiles: q as number[] } : undefined;
}

function evidenceOf(value: unknown): TagEvidence | undefined {
  const o = asObject(value);
  const baselines = numberRecord(o?.baselines);
  if (!o || !baselines || typeof o.metric !== 'string' || typeof o.value !== 'number' || typeof o.best !== 'string' || typeof o.dataset !== 'string') return undefined;
  if (!Number.isInteger(o.nTest) || !Number.isInteger(o.nTrain)) return undefined;
  return { metric: o.metric, value: o.value, baselines, best: o.best, dataset: o.dataset, nTest: o.nTest as number, nTrain: o.nTrain as number };
}

function domainOf(value: unknown): ApplicabilityDomain | undefined {
  const o = asObject(value);
  if (!o || (o.sketch !== 'morgan' && o.sketch !== 'kmer') || !Number.isInteger(o.bits) || (o.bits as number) % 8 !== 0 || !Number.isInteger(o.count)) return undefined;
  if (typeof o.fingerprints !== 'string' || typeof o.threshold !== 'number' || !Number.isFinite(o.threshold)) return undefined;
  if (Buffer.from(o.fingerprints, 'base64').length !== ((o.count as number) * (o.bits as number)) / 8) return undefined;
  return { sketch: o.sketch, bits: o.bits as number, count: o.count as number, fingerprints: o.fingerprints, threshold: o.threshold };
}
