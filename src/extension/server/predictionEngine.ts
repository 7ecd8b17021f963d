// Predictions of every function tag in the loaded bundles, on the configured model and device: a number
// from each tag with a head, and the text each text-output tag writes (greedy, a few dozen tokens). The
// model and bundles load on the first prediction after a (re)configuration, once, and are shared by all
// requests.
import * as path from 'node:path';
import { UsageError } from '../../runtime/errors';
import type { LoadedModel } from '../../runtime/model/description';
import { createTextGenerator, type TextGenerator } from '../../runtime/generateText';
import { createPredictor, type Prediction, type Predictor } from '../../runtime/predict';
import { evidenceText } from '../../runtime/tags/evidenceText';
import { loadTagBundle } from '../../runtime/tags/bundleFiles';
import { modelFingerprint } from '../../runtime/tags/fingerprint';
import type { SourcedTagBundle } from '../../runtime/tags/registry';
import type { SlotValues } from '../../runtime/tags/template';
import { LruCache } from '../lruCache';
import type { EntityRef, Predictions, RuntimeConfig, RuntimeInfo, TagPrediction } from '../protocol';
import { releaseModelsExcept, sharedModel } from './models';

/** The template slot each kind of entity fills. */
const slotOf = { smiles: 'smiles', protein: 'seq' } as const;

/** Inputs per decoder run when many predictions are asked for at once. */
const maxBatch = 32;

/** A text-output tag's words in a hover: a sentence or so, quick to write on a CPU. */
const maxWrittenTokens = 32;

/** A text-output tag that writes for one kind of entity: its template reads that entity's slot alone. */
interface Writer {
  generator: TextGenerator;
  tag: string;
  template: string;
  slot: string;
  bundle: string;
}

interface Job {
  loaded: Loaded;
  input: SlotValues;
  resolve: (predictions: TagPrediction[]) => void;
  reject: (error: unknown) => void;
}

interface Loaded {
  modelName: string;
  device: string;
  predictors: Predictor[];
  writers: Writer[];
}

export class PredictionEngine {
  private config: RuntimeConfig | null = null;
  private loading: Promise<Loaded> | null = null;
  private readonly cache = new LruCache<string, Promise<Predictions>>(2000);
  private queue: Job[] = [];
  private batches: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: (line: string) => void,
    private readonly onInfo: (info: RuntimeInfo) => void,
  ) {}

  async configure(config: RuntimeConfig): Promise<RuntimeInfo> {
    const before = this.config;
    this.config = config;
    this.cache.resize(config.cacheSize);
    const same = before && before.modelPath === config.modelPath && before.device === config.device && before.bundlePaths.join('\n') === config.bundlePaths.join('\n');
    if (!same) {
      this.loading = null;
      this.cache.clear();
      releaseModelsExcept(config.modelPath);
    }
    const loaded = this.loading ? await this.loading.catch(() => null) : null;
    return loaded ? infoOf(loaded) : { model: config.modelPath ? path.basename(config.modelPath) : null, device: config.device, tags: [] };
  }

  /** Drops what was loaded (a bundle was rewritten in place): the next prediction loads it again. */
  reset(): void {
    this.loading = null;
    this.cache.clear();
  }

  predict(ref: EntityRef): Promise<Predictions> {
    const key = `${ref.kind}\u0000${ref.text}`;
    let result = this.cache.get(key);
    if (!result) {
      result = this.compute(ref);
      this.cache.set(key, result);
      result.catch(() => this.cache.delete(key));
    }
    return result;
  }

  private async compute(ref: EntityRef): Promise<Predictions> {
    const loaded = await this.load();
    const input = { [slotOf[ref.kind]]: ref.text };
    const predictions = await new Promise<TagPrediction[]>((resolve, reject) => {
      this.queue.push({ loaded, input, resolve, reject });
      this.batches = this.batches.then(() => this.runBatch());
    });
    return { predictions, model: loaded.modelName, device: loaded.device };
  }

  /**
   * Runs the queued inputs through the decoder together (a panel or a notebook asks for many entities at
   * once, and a batch costs little more than one input). Batches run one after another.
   */
  private async runBatch(): Promise<void> {
    if (this.queue.length === 0) return;
    const { loaded } = this.queue[0];
    const jobs = this.queue.filter((j) => j.loaded === loaded).slice(0, maxBatch);
    this.queue = this.queue.filter((j) => !jobs.includes(j));
    try {
      const results: TagPrediction[][] = jobs.map(() => []);
      for (const predictor of loaded.predictors) {
        if (predictor.registry.predictors.length === 0) continue;
        const served = jobs.flatMap((job, i) => (predictor.applicableTags(job.input).length > 0 ? [i] : []));
        if (served.length === 0) continue;
        const values = await predictor.predict(served.map((i) => jobs[i].input));
        values.forEach((forInput, k) => results[served[k]].push(...forInput.map((p) => tagPrediction(p, forInput))));
      }
      for (const writer of loaded.writers) {
        const served = jobs.flatMap((job, i) => (typeof job.input[writer.slot] === 'string' ? [i] : []));
        if (served.length === 0) continue;
        const written = await writer.generator.generate(served.map((i) => jobs[i].input), { template: writer.template, maxNewTokens: maxWrittenTokens });
        written.forEach((w, k) => results[served[k]].push({ tag: writer.tag, text: w.text, bundle: writer.bundle }));
      }
      jobs.forEach((job, i) => job.resolve(results[i]));
    } catch (error) {
      for (const job of jobs) job.reject(error);
    }
  }

  private load(): Promise<Loaded> {
    const config = this.config;
    if (!config) return Promise.reject(new UsageError('the runtime has not been configured'));
    if (!this.loading) {
      this.loading = this.loadFor(config);
      this.loading.catch((error: Error) => {
        this.log(`loading failed: ${error.message}`);
        this.loading = null;
      });
    }
    return this.loading;
  }

  private async loadFor(config: RuntimeConfig): Promise<Loaded> {
    const modelName = config.modelPath ? path.basename(config.modelPath) : 'no model';
    if (config.bundlePaths.length === 0) return { modelName, device: config.device, predictors: [], writers: [] };
    const started = performance.now();
    const model = await sharedModel(config.modelPath);
    const fingerprint = modelFingerprint(model);
    const bundles: SourcedTagBundle[] = [];
    for (const dir of config.bundlePaths) {
      try {
        bundles.push(await loadTagBundle(dir, fingerprint));
      } catch (error) {
        this.log(`skipping bundle ${dir}: ${(error as Error).message}`);
      }
    }
    const predictors = await this.predictorsFor(model, bundles, config);
    const writers = await this.writersFor(model, bundles, config);
    const device = predictors[0]?.provider ?? config.device;
    for (const p of predictors) if (p.fallbackReason) this.log(`GPU not used: ${p.fallbackReason}`);
    const loaded = { modelName, device, predictors, writers };
    this.log(`loaded ${modelName} with ${bundles.length} bundle(s) on ${device} in ${(performance.now() - started).toFixed(0)} ms; function tags: ${infoOf(loaded).tags.join(', ') || 'none'}`);
    this.onInfo(infoOf(loaded));
    return loaded;
  }

  /**
   * One predictor over all bundles when they compose (a domain tag in one serves function tags in
   * another); otherwise one per bundle, since bundles trained separately each carry their own domain tags.
   */
  private async predictorsFor(model: LoadedModel, bundles: SourcedTagBundle[], config: RuntimeConfig): Promise<Predictor[]> {
    if (bundles.length === 0) return [];
    const provider = config.device;
    try {
      return [await createPredictor({ model, bundles, provider })];
    } catch (error) {
      if (bundles.length === 1) throw error;
      this.log(`bundles do not compose (${(error as Error).message}); using each on its own`);
    }
    const predictors: Predictor[] = [];
    for (const bundle of bundles) {
      try {
        predictors.push(await createPredictor({ model, bundles: [bundle], provider }));
      } catch (error) {
        this.log(`skipping bundle ${bundle.path}: ${(error as Error).message}`);
      }
    }
    return predictors;
  }

  /** The text-output tags whose template reads a molecule or a sequence alone ({smiles} or {seq}). */
  private async writersFor(model: LoadedModel, bundles: SourcedTagBundle[], config: RuntimeConfig): Promise<Writer[]> {
    if (!bundles.some((b) => Object.values(b.bundle.meta.tags).some((t) => t.output === 'text'))) return [];
    let generator: TextGenerator;
    try {
      generator = await createTextGenerator({ model, bundles, provider: config.device });
    } catch (error) {
      this.log(`text-output tags unavailable: ${(error as Error).message}`);
      return [];
    }
    const slots: readonly string[] = Object.values(slotOf);
    return generator.registry.textWriters.flatMap((tag) => {
      if (tag.meta.template === undefined) return [];
      try {
        const read = generator.promptTemplate(tag.meta.template).slots;
        if (read.length === 1 && slots.includes(read[0])) return [{ generator, tag: tag.name, template: tag.meta.template, slot: read[0], bundle: path.basename(tag.bundlePath) }];
        this.log(`text-output tag ${tag.name} reads ${read.map((s) => `{${s}}`).join(', ')}; hovers fill {smiles} or {seq} alone`);
      } catch (error) {
        this.log(`skipping text-output tag ${tag.name}: ${(error as Error).message}`);
      }
      return [];
    });
  }
}

function infoOf(loaded: Loaded): RuntimeInfo {
  const tags = [...loaded.predictors.flatMap((p) => p.registry.predictors.map((t) => t.name)), ...loaded.writers.map((w) => w.tag)];
  return { model: loaded.modelName, device: loaded.device, tags: [...new Set(tags)] };
}

/** A runtime prediction as the protocol carries it; a tag with several outputs (Tox21) names each. */
function tagPrediction(p: Prediction, siblings: readonly Prediction[]): TagPrediction {
  const several = siblings.filter((q) => q.tag === p.tag).length > 1;
  return {
    tag: several ? `${p.tag} ${p.output}` : p.tag, value: p.value, unit: p.units || undefined, bundle: path.basename(p.bundle), task: p.task,
    ...(p.evidence && { evidence: evidenceText(p.evidence) }),
    ...(p.percentile !== undefined && { percentile: p.percentile }),
    ...(p.similarity !== undefined && { similarity: p.similarity }),
    flags: p.flags,
  };
}
