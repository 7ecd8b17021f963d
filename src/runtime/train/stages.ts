// The three Tag-LLM training stages as one library call, used by `tagllm train`, `tagllm
// eval` and the editor's training commands: read and split the data, set up tags (new, or
// from bundles) and the head, train with the shared loop, evaluate on the test split next
// to the baselines, and save the bundle. Stage 1 (domain) learns a domain tag by next-token
// likelihood; stage 2 (function) and 3 (cross) learn a function tag and its linear head on
// standardized targets, with metrics reported in the target's units.
import { basename } from 'node:path';
import { UsageError } from '../errors';
import { inputKindOfDomain, loadExamples, type ExampleSet } from '../data/examples';
import { labelledSplit, randomSplit, type SplitIndices } from '../data/split';
import type { LoadedModel } from '../model/description';
import { makeTagBundle, type TagBundle, type TagEntry } from '../tags/bundle';
import { loadTagBundle, saveTagBundle } from '../tags/bundleFiles';
import { modelExpansionContext, type ExpansionContext } from '../tags/expand';
import { modelFingerprint } from '../tags/fingerprint';
import { initLinearHead, targetScale, type LinearHead, type TargetScale } from '../tags/head';
import { initTagValue } from '../tags/init';
import type { TagName, TagValue } from '../tags/name';
import { TagRegistry } from '../tags/registry';
import { fillTemplate } from '../tags/template';
import { Tokenizer } from '../tokenizer/tokenizer';
import type { TrainBackend } from './backend';
import { hiddenFeatures, meanBaseline, ridgeBaseline, structureFeatures } from './baselines';
import { checkpointFolderFor } from './checkpoint';
import { regressionMetrics, type RegressionMetrics } from './metrics';
import { designMatrix, fitRidgeValidated, ridgeAsLinear } from './ridge';
import {
  headBiasParameter, headWeightParameter, nextTokenNll, nextTokenObjective, plainTextExamples, predictStandardized, readHidden,
  regressionObjective, tagParameter, templateExamples, type ExpandedExamples,
} from './objectives';
import { backwardCutPays, firstTrainableStart, frozenPrefixEnd, PrefixCache } from './prefixCache';
import { SeededRng } from './rng';
import { labelDescription, slotValues, taskTemplate, type Stage, type TaskInput, type TaskTemplate } from './task';
import { trainParameters, type TrainProgress, type TrainResult } from './trainer';

export const DEFAULT_P = 10;
/**
 * Stage-2 runs on stories260K (docs/RESULTS.md) kept a trained step over the ridge warm start
 * at 1e-3; at 3e-3 and 1e-2 the first Adam steps undid the fitted readout and early stopping
 * mostly kept step 0.
 */
export const DEFAULT_LR = 1e-3;
/**
 * The head's learning rate as a share of the tags'. The head starts at its ridge fit; Adam
 * moves every weight by about the learning rate per step whatever its gradient's size, and
 * at the tags' rate that throws the fitted readout away in the first few steps.
 */
export const DEFAULT_HEAD_LR_FACTOR = 0.1;
export const DEFAULT_BATCH = 32;
/** Passes over the training rows when no step count is given: about 3 minutes for 1,000 molecules on stories260K and two CPU cores. */
export const DEFAULT_EPOCHS = 3;
export const DEFAULT_MICRO_BATCH = 8;
export const DEFAULT_SPLIT_FRACTION = 0.1;
/**
 * The ridge warm start and the validation passes during training use at most this many
 * rows (a seeded sample): a 64- to 4096-wide ridge fit is settled by a few thousand rows, and
 * validating all 5,000 Davis pairs every few steps would cost more than the training. The
 * final test and the baselines always use every row.
 */
export const MAX_ROWS_WHILE_TRAINING = 2048;
/** Protein and text inputs longer than this many characters are cut (long proteins would dominate the compute). */
export const DEFAULT_MAX_INPUT_LENGTH = 512;

export interface StageOptions {
  readonly stage: Stage;
  readonly model: LoadedModel;
  readonly backend: TrainBackend;
  readonly data: string;
  readonly inputColumns: readonly string[];
  /** One domain tag per input column. */
  readonly domains: readonly TagName[];
  /** The function tag (stages function and cross). */
  readonly functionTag?: TagName;
  /** A numeric column, or a computed label (qed, logp, tpsa, mw; gravy, instability, pi, mw, aromaticity, charge). */
  readonly label?: string;
  /** A split column name, or a fraction (test and validation each get this share). */
  readonly split?: string;
  /** With a split column whose values name folds (Davis: train0..train4), the fold that validates. */
  readonly validFold?: string;
  /** Bundles whose tags (and heads) the run starts from. */
  readonly startBundles?: readonly string[];
  /** Tags that stay fixed. Default: none in stages domain/function, the domain tags in stage cross. */
  readonly freeze?: readonly TagName[];
  readonly p?: number;
  readonly lr?: number;
  /** Peak learning rate of the head (default: lr × DEFAULT_HEAD_LR_FACTOR). */
  readonly headLr?: number;
  readonly steps?: number;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly microBatch?: number;
  readonly seed?: number;
  readonly evalEvery?: number;
  readonly patience?: number;
  readonly checkpointEvery?: number;
  /** Bundle folder to write; its checkpoint goes beside it (OUT.checkpoint). */
  readonly out?: string;
  readonly resume?: boolean;
  /** Skip training: evaluate the start bundles (tagllm eval). */
  readonly evaluateOnly?: boolean;
  readonly baselines?: boolean;
  /** Use at most this many usable rows of the file (the first ones). */
  readonly limit?: number;
  /** Use a seeded random sample of this many usable rows (before splitting; split columns are kept). */
  readonly sample?: number;
  readonly maxInputLength?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TrainProgress) => void;
  /** Phase messages ("loading data", "baselines") for a log. */
  readonly onMessage?: (text: string) => void;
}

export interface TrainingSchedule {
  readonly steps: number;
  readonly evalEvery: number;
  readonly checkpointEvery: number;
}

/** Optimizer steps (from --steps, or --epochs over the training rows), and how often to validate and checkpoint. */
export function trainingSchedule(options: Pick<StageOptions, 'evaluateOnly' | 'steps' | 'epochs' | 'evalEvery' | 'checkpointEvery'>, nTrain: number, batchSize: number): TrainingSchedule {
  const nBatchesPerEpoch = Math.max(1, Math.ceil(nTrain / batchSize));
  const steps = options.evaluateOnly ? 0 : options.steps ?? Math.ceil((options.epochs ?? DEFAULT_EPOCHS) * nBatchesPerEpoch);
  return {
    steps,
    evalEvery: options.evalEvery ?? Math.max(1, Math.round(Math.min(nBatchesPerEpoch / 2, steps / 10))),
    checkpointEvery: options.checkpointEvery ?? Math.max(1, Math.floor(steps / 10)),
  };
}

export type MetricsRecord = Readonly<Record<string, number | null>>;

export interface StageReport {
  readonly task: string;
  readonly stage: Stage;
  readonly n_train: number;
  readonly n_valid: number;
  readonly n_test: number;
  readonly n_skipped: number;
  readonly test: MetricsRecord;
  readonly baselines: Readonly<Record<string, MetricsRecord>>;
  readonly steps: number;
  readonly stopped_by: string;
  readonly best_step: number;
  /** Validation loss of the starting tags and head (step 0), and of the kept ones; null without a validation split or training. */
  readonly valid_loss_start: number | null;
  readonly valid_loss_best: number | null;
  readonly provider: string;
  readonly out?: string;
  readonly wall_s: number;
}

/** JSON has no NaN: undefined correlations (a constant prediction) print as null. */
function record(m: RegressionMetrics | Record<string, number>): MetricsRecord {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
}

/** At most MAX_ROWS_WHILE_TRAINING of `rows`, a seeded sample kept in row order. */
function sampleRows(rows: readonly number[], seed: number): number[] {
  if (rows.length <= MAX_ROWS_WHILE_TRAINING) return [...rows];
  const order = new SeededRng(seed ^ 0x7a11).permutation(rows.length).slice(0, MAX_ROWS_WHILE_TRAINING);
  return order.sort((a, b) => a - b).map((k) => rows[k]);
}

/** The run's train / validation / test rows: a split column, or a seeded random split. */
export function splitOf(set: ExampleSet, options: Pick<StageOptions, 'split' | 'validFold'>, seed: number): SplitIndices {
  const n = set.examples.length;
  const split = options.split ?? String(DEFAULT_SPLIT_FRACTION);
  const fraction = Number(split);
  if (Number.isFinite(fraction)) return randomSplit(n, fraction, seed);
  const labels = set.examples.map((e) => e.split ?? '');
  return labelledSplit(labels, seed, DEFAULT_SPLIT_FRACTION, options.validFold);
}

interface TagSetup {
  readonly values: Map<TagName, TagValue>;
  /** Tags that came from a start bundle (not written again unless they train). */
  readonly loaded: Set<TagName>;
  readonly head?: LinearHead;
  readonly scale?: TargetScale;
}

export async function setUpTags(options: Pick<StageOptions, 'model' | 'startBundles' | 'p' | 'evaluateOnly' | 'functionTag'>, tags: readonly TagName[], p: number, context: ExpansionContext): Promise<TagSetup> {
  const fingerprint = modelFingerprint(options.model);
  const bundles = await Promise.all((options.startBundles ?? []).map((b) => loadTagBundle(b, fingerprint)));
  const registry = bundles.length > 0 ? TagRegistry.compose(bundles) : undefined;
  const values = new Map<TagName, TagValue>();
  const loaded = new Set<TagName>();
  let head: LinearHead | undefined;
  let scale: TargetScale | undefined;
  for (const tag of tags) {
    if (registry?.has(tag)) {
      const held = registry.get(tag);
      if (held.value.p !== p && options.p !== undefined) throw new UsageError(`tag ${tag} in ${held.bundlePath} has p = ${held.value.p}, not --p ${options.p}`);
      values.set(tag, { ...held.value, data: Float32Array.from(held.value.data) });
      loaded.add(tag);
      if (tag === options.functionTag && held.head) {
        head = { ...held.head, weight: Float32Array.from(held.head.weight), bias: Float32Array.from(held.head.bias) };
        const out = held.meta.outputs?.[0];
        if (out) scale = { mean: out.targetMean, std: out.targetStd };
      }
    } else {
      if (options.evaluateOnly) throw new UsageError(`no bundle given with --tags defines ${tag}`);
      values.set(tag, initTagValue(context.embedding, p));
    }
  }
  return { values, loaded, head, scale };
}

export type StageDataOptions = Omit<StageOptions, 'model' | 'backend'>;

/** What a run learns from: the task's template, the usable rows of the data file and their split. */
export interface StageData {
  readonly inputs: readonly TaskInput[];
  readonly task: TaskTemplate;
  readonly description: string;
  readonly units: string;
  readonly set: ExampleSet;
  readonly split: SplitIndices;
}

/** Reads and splits the data of a run (`tagllm train`, and `tagllm export-job` for the PyTorch companion). */
export async function readStageData(options: StageDataOptions, say: (text: string) => void = () => undefined): Promise<StageData> {
  const seed = options.seed ?? 0;
  const { stage, label } = options;
  if (options.domains.length !== options.inputColumns.length) {
    throw new UsageError(`${options.inputColumns.length} input column(s) but ${options.domains.length} domain tag(s); give one domain per input`);
  }
  if (stage !== 'domain' && !label) throw new UsageError(`stage ${stage} needs --label (a column, or a computed label)`);
  const inputs: TaskInput[] = options.inputColumns.map((column, k) => ({ column, domain: options.domains[k], kind: inputKindOfDomain(options.domains[k]) }));
  const { description, units } = labelDescription(label ?? '');
  const task = taskTemplate(stage, inputs, options.functionTag ? { tag: options.functionTag, description } : undefined);

  say(`reading ${options.data}`);
  const set = await loadExamples({
    path: options.data,
    inputColumns: options.inputColumns,
    inputKinds: inputs.map((i) => i.kind),
    ...(stage !== 'domain' && { label }),
    ...(options.split !== undefined && !Number.isFinite(Number(options.split)) && { splitColumn: options.split }),
    ...(options.limit !== undefined && { limit: options.limit }),
    ...(options.sample !== undefined && { sample: { size: options.sample, seed: seed ^ 0x5eed } }),
    maxInputLength: options.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH,
  });
  const split = splitOf(set, options, seed);
  if (split.train.length === 0 || split.test.length === 0) throw new UsageError(`the split leaves ${split.train.length} training and ${split.test.length} test rows`, options.data);
  return { inputs, task, description, units, set, split };
}

export async function runStage(options: StageOptions): Promise<StageReport> {
  const started = Date.now();
  const say = options.onMessage ?? (() => undefined);
  const seed = options.seed ?? 0;
  const { stage, model, backend } = options;
  const { inputs, task, description, units, set, split } = await readStageData(options, say);
  const label = options.label;
  const rawInputs = set.examples.map((e) => e.inputs);

  const tokenizer = Tokenizer.forModel(model);
  const tagNames = task.template.tags;
  const p = options.p ?? DEFAULT_P;
  const values = new Map<TagName, TagValue>();
  const context = modelExpansionContext(model, tokenizer, (t) => values.get(t)!);
  const setup = await setUpTags(options, tagNames, p, context);
  for (const [k, v] of setup.values) values.set(k, v);
  const frozen = new Set(options.freeze ?? (stage === 'cross' ? options.domains : []));
  const trainable = new Set(tagNames.filter((t) => !frozen.has(t)));
  const slots = rawInputs.map((row) => slotValues(task, row));
  const examples = templateExamples(task.template, context, slots, values, stage === 'domain' ? undefined : options.functionTag);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const microBatch = Math.min(options.microBatch ?? DEFAULT_MICRO_BATCH, batchSize);
  const evalBatch = Math.max(microBatch, 16);

  const params = new Map<string, Float32Array>();
  for (const t of trainable) params.set(tagParameter(t), values.get(t)!.data);
  let head = setup.head;
  let scale = setup.scale;
  let targets: Float64Array | undefined;
  const y = Float64Array.from(set.examples, (e) => e.label ?? NaN);
  if (stage !== 'domain') {
    scale ??= targetScale(split.train.map((i) => y[i]));
    targets = Float64Array.from(y, (v) => (v - scale!.mean) / scale!.std);
    head ??= initLinearHead(context.embedding, 1);
    params.set(headWeightParameter(options.functionTag!), head.weight);
    params.set(headBiasParameter(options.functionTag!), head.bias);
  }

  const validWhileTraining = sampleRows(split.valid, seed);
  const { numLayers, numKvHeads, headDim } = model.config;
  const prefixes =
    stage === 'domain'
      ? undefined
      : PrefixCache.plan({ backend, examples, indices: [...split.train, ...split.valid, ...split.test], trainable, floatsPerPosition: 2 * numLayers * numKvHeads * headDim, batchSize: evalBatch });
  if (prefixes) say(`reusing the keys and values of ${prefixes.prefixCount} shared frozen prefixes`);
  // positions a step could run forward only: before the first trainable tag, after any cached prefix
  const cuts = split.train.map((i) => {
    const row = examples.row(i);
    return firstTrainableStart(row, trainable) - (prefixes ? frozenPrefixEnd(row, trainable) : 0);
  });
  const cutBeforeTrainable = stage !== 'domain' && backend.keyValues !== undefined && !cuts.includes(0) && backwardCutPays(microBatch, cuts.reduce((a, b) => a + b, 0) / Math.max(1, cuts.length));
  if (cutBeforeTrainable) say('training steps run the positions before the first trainable tag forward only');
  if (stage !== 'domain' && !setup.head && !options.resume && !options.evaluateOnly) {
    // Warm start (linear probe, then tune): the head begins as the ridge fit of the targets on
    // the tagged hidden states, so training starts from a sensible readout instead of
    // spending its first steps finding the targets' scale. All training rows, λ chosen on
    // validation: the warm start is the tagged model's linear probe, and the trainer keeps it
    // (step 0) unless training validates better.
    say('fitting the head to the tagged hidden states (ridge warm start)');
    const rows = sampleRows(split.train, seed);
    const valid = split.valid.length > 0 ? validWhileTraining : rows;
    const fit = fitRidgeValidated(
      designMatrix(await readHidden(backend, examples, rows, evalBatch, prefixes)), rows.map((i) => targets![i]),
      designMatrix(await readHidden(backend, examples, valid, evalBatch, prefixes)), valid.map((i) => targets![i]),
    );
    const linear = ridgeAsLinear(fit);
    head!.weight.set(linear.weights);
    head!.bias[0] = linear.intercept;
  }

  const { steps, evalEvery, checkpointEvery } = trainingSchedule(options, split.train.length, batchSize);
  const objective =
    stage === 'domain'
      ? nextTokenObjective({ backend, examples, train: split.train, valid: validWhileTraining, trainableTags: trainable, evalBatch })
      : regressionObjective({
          backend, examples, targets: targets!, train: split.train, valid: validWhileTraining, functionTag: options.functionTag!, head: head!,
          trainableTags: trainable, trainHead: true, evalBatch, prefixes, cutBeforeTrainable,
        });

  const writtenTags = tagNames.filter((t) => trainable.has(t) || !setup.loaded.has(t));
  const toBundle = (metrics?: Record<string, number>): TagBundle =>
    makeTagBundle(
      modelFingerprint(model),
      writtenTags.map((name): TagEntry => {
        const isFunction = stage !== 'domain' && name === options.functionTag;
        const training = { stage, data: basename(options.data), label: label ?? null, n_train: split.train.length, seed, lr: options.lr ?? DEFAULT_LR };
        if (!isFunction) return { name, kind: 'domain', description: `${name.slice(1, -1)} domain`, value: values.get(name)!, training };
        return {
          name, kind: 'function', description, template: task.template.text, value: values.get(name)!, head: head!,
          outputs: [{ name: label!, units, targetMean: scale!.mean, targetStd: scale!.std }], training, ...(metrics && { metrics }),
        };
      }),
    );

  let result: TrainResult = { steps: 0, stoppedBy: 'steps', bestStep: 0, history: [], examplesSeen: 0 };
  if (steps > 0) {
    say(`training ${[...trainable].join(', ')}${stage !== 'domain' ? ` and the head of ${options.functionTag}` : ''} on ${split.train.length} examples for up to ${steps} steps`);
    const lr = options.lr ?? DEFAULT_LR;
    const headScale = (options.headLr ?? lr * DEFAULT_HEAD_LR_FACTOR) / lr;
    const lrScale = new Map(stage === 'domain' ? [] : [headWeightParameter(options.functionTag!), headBiasParameter(options.functionTag!)].map((k) => [k, headScale]));
    result = await trainParameters(params, objective, {
      lr, lrScale, steps, batchSize, microBatch, seed, evalEvery, patience: options.patience ?? 3,
      checkpointEvery,
      ...(options.out && { checkpointDir: checkpointFolderFor(options.out) }),
      resume: options.resume, signal: options.signal, onProgress: options.onProgress, toBundle: () => toBundle(),
    });
    if (result.bestValidationLoss !== undefined) {
      say(`validation loss ${result.startValidationLoss?.toFixed(4) ?? '–'} at the start, best ${result.bestValidationLoss.toFixed(4)} at step ${result.bestStep} (kept)`);
    }
  }

  const report = (test: MetricsRecord, baselines: Record<string, MetricsRecord>): StageReport => ({
    task: stage === 'domain' ? `domain ${options.domains[0]}` : `${options.functionTag} ${label}`,
    stage,
    n_train: split.train.length,
    n_valid: split.valid.length,
    n_test: split.test.length,
    n_skipped: set.nSkipped,
    test,
    baselines,
    steps: result.steps,
    stopped_by: result.stoppedBy,
    best_step: result.bestStep,
    valid_loss_start: result.startValidationLoss ?? null,
    valid_loss_best: result.bestValidationLoss ?? null,
    provider: backend.provider,
    ...(options.out && !options.evaluateOnly && { out: options.out }),
    wall_s: (Date.now() - started) / 1000,
  });
  if (result.stoppedBy === 'cancelled') {
    // the checkpoint (with its bundle) is written; the output bundle gets the current tags too
    if (options.out) await saveTagBundle(options.out, toBundle());
    return report({}, {});
  }

  say('evaluating on the test split');
  let test: MetricsRecord;
  const baselines: Record<string, MetricsRecord> = {};
  const withCi = stage === 'cross';
  const plainTexts = rawInputs.map((row) =>
    stage === 'domain' ? row[0] : fillTemplate(task.template, slotValues(task, row)).flatMap((piece) => (piece.kind === 'text' ? [piece.text] : [])).join(' '),
  );
  const plain = plainTextExamples(plainTexts, context);
  if (stage === 'domain') {
    test = { nll: await nextTokenNll(backend, examples, split.test, evalBatch) };
    if (options.baselines !== false) baselines.untagged = { nll: await nextTokenNll(backend, plain, split.test, evalBatch) };
  } else {
    const pred = await predictStandardized(backend, examples, split.test, head!, evalBatch, prefixes);
    const predUnits = Array.from(pred, (v) => v * scale!.std + scale!.mean);
    test = record(regressionMetrics(split.test.map((i) => y[i]), predUnits, withCi));
    if (options.baselines !== false) {
      say('baselines: mean, linear probes, structure ridge');
      baselines.mean = record(meanBaseline(y, split, withCi));
      const feats = await hiddenFeatures(backend, plain as ExpandedExamples, evalBatch, options.signal);
      baselines.linear_probe_last = record(ridgeBaseline(feats.last, y, split, withCi));
      baselines.linear_probe_mean = record(ridgeBaseline(feats.mean, y, split, withCi));
      const structure = await structureFeatures(rawInputs, inputs.map((i) => i.kind));
      if (structure) baselines[structure.name] = record(ridgeBaseline(structure.features, y, split, withCi));
    }
  }

  if (options.out && !options.evaluateOnly) {
    const metrics = Object.fromEntries(Object.entries(test).filter(([, v]) => v !== null)) as Record<string, number>;
    await saveTagBundle(options.out, toBundle(metrics));
  }
  return report(test, baselines);
}
