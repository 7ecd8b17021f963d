// The prediction API the CLI and the extension's runtime process call: a model, some tag
// bundles, and inputs by slot ({smiles}, {seq}) in; one value per function tag out, in the
// target's units. Inputs are expanded through each function tag's template, run through the
// decoder in right-padded batches, and read by the tag's head over its p vectors (src/runtime/tags/readout.ts).
// A classification tag's outputs are probabilities. Each value carries what the bundle says
// about trusting it (format 3): the tag's evidence, the percentile among approved drugs, the
// nearest training input's similarity and the flags of src/runtime/tags/assess.ts.
import { UsageError } from './errors';
import type { LoadedModel } from './model/description';
import { decoderSession, type DecoderSession } from './session/decoderSession';
import type { Provider, ProviderPreference } from './session/ortSession';
import { Tokenizer } from './tokenizer/tokenizer';
import { loadTagBundle } from './tags/bundleFiles';
import { batchInputs, expandInput, modelExpansionContext, type ExpandedInput, type ExpansionContext } from './tags/expand';
import { modelFingerprint, requireSameModel } from './tags/fingerprint';
import { assessPrediction, type Assessment } from './tags/assess';
import type { TagEvidence, TagTask } from './tags/bundle';
import { inputSketch, nearestSimilarity, SKETCH_BITS, unpackSketches } from './tags/domain';
import { applyHead, toTargetUnits } from './tags/head';
import { sigmoid } from './train/logistic';
import { readout } from './tags/readout';
import type { TagName } from './tags/name';
import { TagRegistry, type RegisteredTag, type SourcedTagBundle } from './tags/registry';
import { lastTag, parseTemplate, resolveTemplate, type SlotValues, type Template } from './tags/template';

export interface PredictorOptions {
  readonly model: LoadedModel;
  /** Bundle folders to load (checked against the model), or bundles already loaded. */
  readonly bundles: readonly (string | SourcedTagBundle)[];
  /** Defaults to TAGLLM_DEVICE, else CUDA when available, else CPU. */
  readonly provider?: ProviderPreference;
  /** Inputs per decoder run (default 8). */
  readonly batchSize?: number;
}

export interface Prediction extends Assessment {
  readonly tag: TagName;
  /** The head output's name from the bundle ("QED", "pKd"). */
  readonly output: string;
  /** In the target's units, or a probability for a classification tag. */
  readonly value: number;
  readonly units: string;
  readonly task: TagTask;
  /** The folder of the bundle that holds the function tag. */
  readonly bundle: string;
  /** The tag's test metric beside its baselines; absent for bundles before format 3. */
  readonly evidence?: TagEvidence;
}

export interface PredictOptions {
  /** Only this function tag. Default: every function tag whose template's slots the input fills. */
  readonly functionTag?: TagName;
  /**
   * A template NAME or TEXT in place of the bundles' own. A named task template is
   * instantiated for each function tag; a TEXT template serves the function tag it ends with.
   */
  readonly template?: string;
  readonly signal?: AbortSignal;
}

export interface Predictor {
  readonly model: LoadedModel;
  readonly registry: TagRegistry;
  /** The execution provider that runs the decoder. */
  readonly provider: Provider;
  /** Why CUDA is not used, when it was asked for. */
  readonly fallbackReason?: string;
  /** The input slots ({smiles}, {seq}...) that the templates in play read, in order of first use. */
  inputSlots(options?: PredictOptions): string[];
  /** The function tags (with heads) that can serve this input under `options`. */
  applicableTags(input: SlotValues, options?: PredictOptions): TagName[];
  /** For each input, one prediction per head output of each applicable function tag. */
  predict(inputs: readonly SlotValues[], options?: PredictOptions): Promise<Prediction[][]>;
}

export async function createPredictor(options: PredictorOptions): Promise<Predictor> {
  const { model } = options;
  const fingerprint = modelFingerprint(model);
  const bundles = await Promise.all(options.bundles.map((b) => (typeof b === 'string' ? loadTagBundle(b, fingerprint) : b)));
  for (const { bundle, path } of bundles) requireSameModel(bundle.meta.baseModel, fingerprint, path);
  if (bundles.length === 0) throw new UsageError('no tag bundles given');
  const registry = TagRegistry.compose(bundles);
  for (const tag of registry.predictors) if (tag.meta.template) checkTemplateTags(parseTemplate(tag.meta.template), tag, registry);
  const session = await decoderSession(model, { logits: 'none', kvCache: false, ...(options.provider && { provider: options.provider }) });
  const context = modelExpansionContext(model, Tokenizer.forModel(model), (name) => registry.value(name));
  return new TagPredictor(model, registry, session, context, options.batchSize ?? 8);
}

function checkTemplateTags(template: Template, fn: RegisteredTag, registry: TagRegistry): void {
  const missing = template.tags.filter((t) => !registry.has(t));
  if (missing.length > 0) {
    throw new UsageError(`function tag ${fn.name} (${fn.bundlePath}) needs ${missing.join(', ')}, which no loaded bundle defines; add the bundle that holds ${missing.length > 1 ? 'them' : 'it'}`);
  }
}

interface Job {
  readonly input: number;
  readonly tag: RegisteredTag;
  readonly expanded: ExpandedInput;
  /** The template's single input, which the tag's applicability domain compares. */
  readonly text?: string;
}

class TagPredictor implements Predictor {
  private readonly trainingSketches = new Map<TagName, Uint8Array[]>();

  constructor(
    readonly model: LoadedModel,
    readonly registry: TagRegistry,
    private readonly session: DecoderSession,
    private readonly context: ExpansionContext,
    private readonly batchSize: number,
  ) {}

  get provider(): Provider {
    return this.session.provider;
  }

  get fallbackReason(): string | undefined {
    return this.session.fallbackReason;
  }

  inputSlots(options: PredictOptions = {}): string[] {
    return [...new Set(this.plan(options).flatMap(({ template }) => template.slots))];
  }

  applicableTags(input: SlotValues, options: PredictOptions = {}): TagName[] {
    return this.plan(options)
      .filter(({ template }) => template.slots.every((s) => typeof input[s] === 'string' && input[s].length > 0))
      .map(({ tag }) => tag.name);
  }

  async predict(inputs: readonly SlotValues[], options: PredictOptions = {}): Promise<Prediction[][]> {
    const plan = this.plan(options);
    const results: Prediction[][] = inputs.map(() => []);
    for (const { tag, template } of plan) {
      const jobs: Job[] = [];
      inputs.forEach((input, i) => {
        // With one function tag asked for, an input that lacks a slot is an error; otherwise that tag just does not apply.
        const fills = template.slots.every((s) => typeof input[s] === 'string' && input[s].length > 0);
        if (!fills && !options.functionTag) return;
        const expanded = expandInput(template, input, this.context, tag.name);
        const { maxPositionEmbeddings } = this.model.config;
        if (expanded.seqLength > maxPositionEmbeddings) {
          throw new UsageError(`input ${i + 1} expands to ${expanded.seqLength} positions in ${tag.name}'s template; the model takes at most ${maxPositionEmbeddings}`, this.model.source.path);
        }
        jobs.push({ input: i, tag, expanded, ...(template.slots.length === 1 && { text: input[template.slots[0]] }) });
      });
      // Similar lengths share a batch, so little compute goes to padding.
      jobs.sort((a, b) => a.expanded.seqLength - b.expanded.seqLength);
      for (let at = 0; at < jobs.length; at += this.batchSize) {
        options.signal?.throwIfAborted();
        for (const [job, values] of await this.run(jobs.slice(at, at + this.batchSize))) results[job.input].push(...values);
      }
    }
    return results;
  }

  /** Each function tag to run, with the template it runs in. */
  private plan(options: PredictOptions): { tag: RegisteredTag; template: Template }[] {
    const tags = options.functionTag ? [this.predictorTag(options.functionTag)] : this.registry.predictors;
    const plan = tags.flatMap((tag) => {
      const text = options.template ?? tag.meta.template;
      if (text === undefined) throw new UsageError(`function tag ${tag.name} (${tag.bundlePath}) has no template; give one`);
      const template = resolveTemplate(text, { tag: tag.name, description: tag.meta.description });
      if (lastTag(template) !== tag.name) return [];
      checkTemplateTags(template, tag, this.registry);
      return [{ tag, template }];
    });
    if (plan.length === 0) {
      const have = this.registry.predictors.map((t) => t.name).join(', ');
      if (!options.template) throw new UsageError(`the loaded bundles hold no function tag with a head (tags: ${this.registry.names.join(', ')})`);
      throw new UsageError(`template "${options.template}" ends with ${lastTag(resolveTemplate(options.template))}, which is not a function tag with a head in the loaded bundles (${have || 'none'})`);
    }
    return plan;
  }

  private predictorTag(name: TagName): RegisteredTag {
    const tag = this.registry.get(name);
    if (tag.meta.kind !== 'function' || !tag.head) throw new UsageError(`tag ${name} (${tag.bundlePath}) is not a function tag with a head`);
    return tag;
  }

  /** The job input's nearest training similarity and the tag's threshold, when the bundle stores a domain. */
  private async domainOf(job: Job): Promise<{ similarity: number; threshold: number } | undefined> {
    const domain = job.tag.meta.domain;
    if (!domain || domain.bits !== SKETCH_BITS || job.text === undefined) return undefined;
    const sketch = await inputSketch(domain.sketch, job.text);
    if (!sketch) return undefined;
    let training = this.trainingSketches.get(job.tag.name);
    if (!training) this.trainingSketches.set(job.tag.name, (training = unpackSketches(domain)));
    return { similarity: nearestSimilarity(sketch, training), threshold: domain.threshold };
  }

  private async run(jobs: readonly Job[]): Promise<[Job, Prediction[]][]> {
    const batch = batchInputs(jobs.map((j) => j.expanded));
    const { hidden } = await this.session.forward(batch.inputsEmbeds, [batch.batchSize, batch.seqLength], batch.attentionMask);
    const H = batch.hiddenSize;
    const domains: ({ similarity: number; threshold: number } | undefined)[] = [];
    for (const job of jobs) domains.push(await this.domainOf(job));
    return jobs.map((job, b) => {
      const { head, meta } = job.tag;
      const standardized = applyHead(head!, readout(hidden.data, batch.seqLength, H, b, job.expanded.readSpan));
      const task = meta.task ?? 'regression';
      const domain = domains[b];
      const values = meta.outputs!.map((out, k): Prediction => {
        const value = task === 'classification' ? sigmoid(standardized[k]) : toTargetUnits(standardized[k], { mean: out.targetMean, std: out.targetStd });
        return {
          tag: job.tag.name, output: out.name, value, units: out.units, task, bundle: job.tag.bundlePath,
          ...(meta.evidence && { evidence: meta.evidence }),
          ...assessPrediction(out, value, domain),
        };
      });
      return [job, values];
    });
  }
}

/**
 * A recognized entity as predictor input: molecules fill {smiles} and proteins {seq}, the
 * slots the named templates use, so a hover gets every single-entity function tag of its domain.
 */
export function entityInput(kind: 'smiles' | 'protein', text: string): SlotValues {
  return kind === 'smiles' ? { smiles: text } : { seq: text };
}
