// Text from text-output function tags: inputs by slot in, the words the tags make the frozen
// model write out. The template (a bundle's own, or NAME|TEXT) is cut at its output slot, so
// the prompt ends with the function tag as in the paper's generation script. Inputs run in
// left-padded batches of similar length. The template's constant prefix (BOS, the text and
// tags before the first input: `Input: <EN>`) is the same for every input, so its keys and
// values are computed once per call and every batch continues them.
import { UsageError } from './errors';
import { generateFromEmbeddings, prefixKeyValues, type GenerateResult, type PromptEmbeddings, type SamplingOptions } from './generate';
import type { LoadedModel } from './model/description';
import type { ProviderPreference } from './session/ortSession';
import { loadTagBundle } from './tags/bundleFiles';
import { expandInput, expandPlainText, modelExpansionContext, type ExpandedInput, type ExpansionContext } from './tags/expand';
import { modelFingerprint, requireSameModel } from './tags/fingerprint';
import type { TagName } from './tags/name';
import { TagRegistry, type SourcedTagBundle } from './tags/registry';
import { constantPrefixSegments, lastTag, promptTemplate, resolveTemplate, type SlotValues, type Template } from './tags/template';
import { Tokenizer, asTokenIds } from './tokenizer/tokenizer';
import { suffixOf } from './train/prefixCache';

export interface TextGeneratorOptions {
  readonly model: LoadedModel;
  /** Bundle folders (checked against the model), or bundles already loaded. */
  readonly bundles: readonly (string | SourcedTagBundle)[];
  readonly provider?: ProviderPreference;
}

export interface GenerateTextOptions {
  /** A template NAME or TEXT; default: the template of the one text-output tag in the bundles. */
  readonly template?: string;
  readonly maxNewTokens: number;
  /** Sample with these settings; greedy when absent. */
  readonly sampling?: SamplingOptions;
  /** Inputs per decoder run (default 16). */
  readonly batchSize?: number;
  /** Continue the constant prefix's cached keys and values (default true); false runs every prompt whole. */
  readonly reusePrefix?: boolean;
  readonly signal?: AbortSignal;
}

export interface GeneratedText {
  /** The function tag that wrote it. */
  readonly tag: TagName;
  readonly text: string;
  /** New token ids, ending with EOS when it came. */
  readonly ids: readonly number[];
}

export interface TextGenerator {
  readonly model: LoadedModel;
  readonly registry: TagRegistry;
  /** The template generation runs in under `template` (NAME|TEXT, or the bundles' own), cut at its output slot. */
  promptTemplate(template?: string): Template;
  generate(inputs: readonly SlotValues[], options: GenerateTextOptions): Promise<GeneratedText[]>;
}

export async function createTextGenerator(options: TextGeneratorOptions): Promise<TextGenerator> {
  const { model } = options;
  if (options.bundles.length === 0) throw new UsageError('no tag bundles given');
  const fingerprint = modelFingerprint(model);
  const bundles = await Promise.all(options.bundles.map((b) => (typeof b === 'string' ? loadTagBundle(b, fingerprint) : b)));
  for (const { bundle, path } of bundles) requireSameModel(bundle.meta.baseModel, fingerprint, path);
  const registry = TagRegistry.compose(bundles);
  const tokenizer = Tokenizer.forModel(model);
  const context = modelExpansionContext(model, tokenizer, (name) => registry.value(name));
  return new TagTextGenerator(model, registry, tokenizer, context, options.provider);
}

class TagTextGenerator implements TextGenerator {
  constructor(
    readonly model: LoadedModel,
    readonly registry: TagRegistry,
    private readonly tokenizer: Tokenizer,
    private readonly context: ExpansionContext,
    private readonly provider?: ProviderPreference,
  ) {}

  promptTemplate(text?: string): Template {
    const writers = this.registry.textWriters;
    let source = text;
    if (source === undefined) {
      if (writers.length !== 1) throw new UsageError(`give a template: the bundles hold ${writers.length} text-output tags (${writers.map((t) => t.name).join(', ') || 'none'})`);
      source = writers[0].meta.template;
      if (source === undefined) throw new UsageError(`text-output tag ${writers[0].name} (${writers[0].bundlePath}) has no template; give one`);
    }
    const template = promptTemplate(resolveTemplate(source));
    const fn = this.registry.get(lastTag(template));
    if (fn.meta.output !== 'text') {
      throw new UsageError(`template "${template.text}" ends with ${fn.name} (${fn.bundlePath}), which is not a text-output tag; text-output tags loaded: ${writers.map((t) => t.name).join(', ') || 'none'}`);
    }
    const missing = template.tags.filter((t) => !this.registry.has(t));
    if (missing.length > 0) throw new UsageError(`template "${template.text}" needs ${missing.join(', ')}, which no loaded bundle defines`);
    return template;
  }

  async generate(inputs: readonly SlotValues[], options: GenerateTextOptions): Promise<GeneratedText[]> {
    const template = this.promptTemplate(options.template);
    const tag = lastTag(template);
    const rows = inputs.map((input) => expandInput(template, input, this.context, tag));
    const longest = Math.max(0, ...rows.map((r) => r.seqLength)) + options.maxNewTokens;
    if (longest > this.model.config.maxPositionEmbeddings) {
      throw new UsageError(`a prompt and ${options.maxNewTokens} new tokens need ${longest} positions; the model takes at most ${this.model.config.maxPositionEmbeddings}`, this.model.source.path);
    }
    const prefixEnd = options.reusePrefix === false || rows.length === 0 ? 0 : constantPrefixLength(template, rows[0]);
    const prefix = prefixEnd > 0 ? await prefixKeyValues(this.model, rows[0].inputsEmbeds.subarray(0, prefixEnd * rows[0].hiddenSize), prefixEnd, this.provider) : undefined;
    const order = rows.map((_, i) => i).sort((a, b) => rows[a].seqLength - rows[b].seqLength);
    const batchSize = options.batchSize ?? 16;
    const out: GeneratedText[] = new Array(rows.length);
    // a sampled call draws from one generator across its batches, so its seed fixes every output
    let sampling = options.sampling;
    for (let at = 0; at < order.length; at += batchSize) {
      options.signal?.throwIfAborted();
      const picked = order.slice(at, at + batchSize);
      const prompt = leftPadded(picked.map((i) => suffixOf(rows[i], prefixEnd)));
      const result: GenerateResult = await generateFromEmbeddings(this.model, prompt, {
        maxNewTokens: options.maxNewTokens, signal: options.signal, provider: this.provider, ...(sampling && { sampling }), ...(prefix && { prefix }),
      });
      if (sampling) sampling = { ...sampling, seed: (sampling.seed + 0x9e3779b9) >>> 0 };
      picked.forEach((i, r) => (out[i] = { tag, ids: result.ids[r], text: this.decode(result.ids[r]) }));
    }
    return out;
  }

  private decode(ids: readonly number[]): string {
    return this.tokenizer.decode(asTokenIds([...ids]), { skipSpecialTokens: true }).trim();
  }
}

/** Positions of the template's constant prefix in an expanded row: up to the end of its last tag. */
function constantPrefixLength(template: Template, row: ExpandedInput): number {
  const tagsInPrefix = template.segments.slice(0, constantPrefixSegments(template)).filter((s) => s.kind === 'tag').length;
  if (tagsInPrefix === 0) return 0;
  const span = row.tagSpans[tagsInPrefix - 1];
  return span.start + span.length;
}

/** Rows left-padded to one length, so every row's last position is its function tag's last vector. */
export function leftPadded(rows: readonly ExpandedInput[]): PromptEmbeddings {
  if (rows.length === 0) throw new UsageError('no prompts to batch');
  const h = rows[0].hiddenSize;
  const seq = Math.max(...rows.map((r) => r.seqLength));
  const embeds = new Float32Array(rows.length * seq * h);
  const mask = new BigInt64Array(rows.length * seq);
  rows.forEach((row, b) => {
    const pad = seq - row.seqLength;
    embeds.set(row.inputsEmbeds, (b * seq + pad) * h);
    mask.fill(1n, b * seq + pad, (b + 1) * seq);
  });
  return { embeds, batch: rows.length, seq, mask };
}

/** Continuations of plain prompts by the model alone, no tags (the untagged baselines); BOS is added when the model wants it. */
export async function generateUntagged(
  model: LoadedModel, prompts: readonly string[], options: Pick<GenerateTextOptions, 'maxNewTokens' | 'sampling' | 'batchSize' | 'signal'> & { provider?: ProviderPreference },
): Promise<string[]> {
  const tokenizer = Tokenizer.forModel(model);
  const context = modelExpansionContext(model, tokenizer, (name) => {
    throw new UsageError(`an untagged prompt has no tag ${name}`);
  });
  const rows = prompts.map((text) => expandPlainText(text, context));
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].seqLength - rows[b].seqLength);
  const batchSize = options.batchSize ?? 16;
  const out: string[] = new Array(rows.length);
  for (let at = 0; at < order.length; at += batchSize) {
    const picked = order.slice(at, at + batchSize);
    const result = await generateFromEmbeddings(model, leftPadded(picked.map((i) => rows[i])), {
      maxNewTokens: options.maxNewTokens, signal: options.signal, provider: options.provider, ...(options.sampling && { sampling: options.sampling }),
    });
    picked.forEach((i, r) => (out[i] = tokenizer.decode(asTokenIds(result.ids[r]), { skipSpecialTokens: true }).trim()));
  }
  return out;
}
