// The three Tag-LLM training stages as one library call, used by `tagllm train`, `tagllm
// eval` and the editor's training commands: read and split the data, set up tags (new, or
// from bundles) and the head, train with the shared loop, evaluate on the test split next
// to the baselines, and save the bundle. Stage 1 (domain) learns a domain tag by next-token
// likelihood; stage 2 (function) and 3 (cross) learn a function tag and its linear head on
// standardized targets, with metrics reported in the target's units, or, for 0/1 labels
// (src/runtime/train/classification.ts), a logistic head scored on its probabilities. A saved
// function tag keeps its evidence, applicability domain and approved-drug percentiles
// (src/runtime/train/trust.ts).
import { basename } from 'node:path';
import { UsageError } from '../errors';
import { inputKindOfDomain, loadExamples, type ExampleSet } from '../data/examples';
import { labelledSplit, randomSplit, type SplitIndices } from '../data/split';
import type { LoadedModel } from '../model/description';
import { makeTagBundle, type HeadOutputMeta, type TagBundle, type TagEntry, type TagEvidence, type TagTask } from '../tags/bundle';
import { sketchKindOf, type ApplicabilityDomain } from '../tags/domain';
import type { ApprovedDistribution } from '../tags/percentile';
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
import { classificationRecord, isBinaryLabelSet, logisticBaseline, logisticTargets, majorityBaseline, type LabelRows } from './classification';
import { fitLogisticValidated, logisticAsLinear, sigmoid } from './logistic';
import { applicabilityDomain, approvedDistribution, approvedDrugSmiles, datasetName, tagEvidence } from './trust';
import { checkpointFolderFor } from './checkpoint';
import { regressionMetrics } from './metrics';
import { designMatrix, fitRidgeValidated, ridgeAsLinear } from './ridge';
import {
  headBiasParameter, headOutputs, headWeightParameter, logisticObjective, nextTokenNll, nextTokenObjective, plainTextExamples, readHidden,
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
  /**
   * A numeric column, or a computed label (qed, logp, tpsa, mw; gravy, instability, pi, mw,
   * aromaticity, charge); for multi-label classification, label columns separated by commas.
   */
  readonly label?: string;
  /** Default: classification when every known label is 0 or 1 (or the start bundle's tag says so), else regression. */
  readonly task?: TagTask;
  /** What the function tag predicts, as it reads in its template (default: from the label). */
  readonly description?: string;
  /** The data set's short name for the evidence (default: the file's name, "ESOL"). */
  readonly datasetName?: string;
  /** A CSV with smiles and FDA_APPROVED columns (ClinTox): SMILES tags store their predictions' distribution over the approved drugs. */
  readonly approvedDrugs?: string;
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

/** What every training run's report says of its split and its run (`tagllm train`'s JSON). */
export interface RunReport {
  readonly task: string;
  readonly n_train: number;
  readonly n_valid: number;
  readonly n_test: number;
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

export interface StageReport extends RunReport {
  readonly stage: Stage;
  /** What the function tag learned ("regression" for stage domain). */
  readonly task_type: TagTask;
  readonly n_skipped: number;
  readonly test: MetricsRecord;
  readonly baselines: Readonly<Record<string, MetricsRecord>>;
}

/** JSON has no NaN: undefined correlations (a constant prediction) print as null. */
function record(m: object): MetricsRecord {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
}

/** What a trained function tag's bundle entry records beside its tensors (bundle format 3). */
interface TagTrust {
  readonly metrics: Record<string, number>;
  readonly evidence?: TagEvidence;
  readonly domain?: ApplicabilityDomain;
  /** One per head output. */
  readonly approved?: readonly ApprovedDistribution[];
}

function finiteMetrics(m: MetricsRecord): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null)) as Record<string, number>;
}

/** Mean squared error of the probabilities over the row's known labels. */
function rowBrier(labels: readonly number[], probabilities: readonly number[]): number {
  let sum = 0;
  let n = 0;
  labels.forEach((l, j) => {
    if (Number.isNaN(l)) return;
    sum += (probabilities[j] - l) ** 2;
    n++;
  });
  return n > 0 ? sum / n : 0;
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
  /** The start bundle's task for the function tag. */
  readonly task?: TagTask;
}

export async function setUpTags(options: Pick<StageOptions, 'model' | 'startBundles' | 'p' | 'evaluateOnly' | 'functionTag'>, tags: readonly TagName[], p: number, context: ExpansionContext): Promise<TagSetup> {
  const fingerprint = modelFingerprint(options.model);
  const bundles = await Promise.all((options.startBundles ?? []).map((b) => loadTagBundle(b, fingerprint)));
  const registry = bundles.length > 0 ? TagRegistry.compose(bundles) : undefined;
  const values = new Map<TagName, TagValue>();
  const loaded = new Set<TagName>();
  let head: LinearHead | undefined;
  let scale: TargetScale | undefined;
  let task: TagTask | undefined;
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
        task = held.meta.task ?? 'regression';
      }
    } else {
      if (options.evaluateOnly) throw new UsageError(`no bundle given with --tags defines ${tag}`);
      values.set(tag, initTagValue(context.embedding, p));
    }
  }
  return { values, loaded, head, scale, task };
}

export type StageDataOptions = Omit<StageOptions, 'model' | 'backend'>;

/** What a run learns from: the task's template, the usable rows of the data file and their split. */
export interface StageData {
  readonly inputs: readonly TaskInput[];
  readonly task: TaskTemplate;
  readonly description: string;
  readonly units: string;
  /** The label columns: several make a multi-label classification task. */
  readonly labelColumns: readonly string[];
  /** The values the labelled quantity can take at all (task.ts labelDescription), when known. */
  readonly bounds?: readonly [number | null, number | null];
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
  const labelColumns = (label ?? '').split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  const multiLabel = labelColumns.length > 1;
  const described = labelDescription(label ?? '');
  const description = options.description ?? described.description;
  const { units, bounds } = described;
  const task = taskTemplate(stage, inputs, options.functionTag ? { tag: options.functionTag, description } : undefined);

  say(`reading ${options.data}`);
  const set = await loadExamples({
    path: options.data,
    inputColumns: options.inputColumns,
    inputKinds: inputs.map((i) => i.kind),
    ...(stage !== 'domain' && (multiLabel ? { labels: labelColumns } : { label })),
    ...(options.split !== undefined && !Number.isFinite(Number(options.split)) && { splitColumn: options.split }),
    ...(options.limit !== undefined && { limit: options.limit }),
    ...(options.sample !== undefined && { sample: { size: options.sample, seed: seed ^ 0x5eed } }),
    maxInputLength: options.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH,
  });
  const split = splitOf(set, options, seed);
  if (split.train.length === 0 || split.test.length === 0) throw new UsageError(`the split leaves ${split.train.length} training and ${split.test.length} test rows`, options.data);
  return { inputs, task, description, units, labelColumns, ...(bounds && { bounds }), set, split };
}

export async function runStage(options: StageOptions): Promise<StageReport> {
  const started = Date.now();
  const say = options.onMessage ?? (() => undefined);
  const seed = options.seed ?? 0;
  const { stage, model, backend } = options;
  const { inputs, task, description, units, labelColumns, bounds, set, split } = await readStageData(options, say);
  const label = options.label;
  const multiLabel = labelColumns.length > 1;
  const rawInputs = set.examples.map((e) => e.inputs);
  const labelRows: LabelRows = set.examples.map((e) => e.targets ?? [e.label ?? NaN]);

  const tokenizer = Tokenizer.forModel(model);
  const tagNames = task.template.tags;
  const p = options.p ?? DEFAULT_P;
  const values = new Map<TagName, TagValue>();
  const context = modelExpansionContext(model, tokenizer, (t) => values.get(t)!);
  const setup = await setUpTags(options, tagNames, p, context);
  for (const [k, v] of setup.values) values.set(k, v);
  const taskType: TagTask = stage === 'domain' ? 'regression' : options.task ?? setup.task ?? (isBinaryLabelSet(labelRows) ? 'classification' : 'regression');
  const classify = taskType === 'classification';
  if (multiLabel && !classify) throw new UsageError(`several label columns (${labelColumns.join(', ')}) are a multi-label classification task; their values must be 0, 1 or empty`, options.data);
  if (classify && !isBinaryLabelSet(labelRows)) throw new UsageError(`classification needs labels 0 or 1 (or empty for missing) in ${labelColumns.join(', ')}`, options.data);
  if (classify) say(`classification: ${labelColumns.length} binary task${multiLabel ? 's' : ''} (${labelColumns.join(', ')})`);
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
  const logistic = classify ? logisticTargets(labelRows, split.train) : undefined;
  if (stage !== 'domain') {
    // a logistic head's outputs are logits: no target scale
    scale ??= classify ? { mean: 0, std: 1 } : targetScale(split.train.map((i) => y[i]));
    targets = Float64Array.from(y, (v) => (v - scale!.mean) / scale!.std);
    head ??= initLinearHead(context.embedding, labelColumns.length);
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
    say(`fitting the head to the tagged hidden states (${classify ? 'logistic' : 'ridge'} warm start)`);
    const rows = sampleRows(split.train, seed);
    const valid = split.valid.length > 0 ? validWhileTraining : rows;
    const trainHidden = await readHidden(backend, examples, rows, evalBatch, prefixes);
    const validHidden = await readHidden(backend, examples, valid, evalBatch, prefixes);
    if (classify) {
      const k = labelColumns.length;
      for (let j = 0; j < k; j++) {
        const known = (idx: number[], hidden: Float32Array[]) => idx.flatMap((i, r) => (logistic!.weights[i * k + j] > 0 ? [{ i, h: hidden[r] }] : []));
        const t = known(rows, trainHidden);
        const v = known(valid, validHidden);
        const fit = fitLogisticValidated(
          designMatrix(t.map((e) => e.h)), t.map((e) => logistic!.labels[e.i * k + j]), t.map((e) => logistic!.weights[e.i * k + j]),
          designMatrix(v.map((e) => e.h)), v.map((e) => logistic!.labels[e.i * k + j]), v.map((e) => logistic!.weights[e.i * k + j]),
        );
        const linear = logisticAsLinear(fit);
        head!.weight.set(linear.weights, j * head!.hiddenSize);
        head!.bias[j] = linear.intercept;
      }
    } else {
      const fit = fitRidgeValidated(designMatrix(trainHidden), rows.map((i) => targets![i]), designMatrix(validHidden), valid.map((i) => targets![i]));
      const linear = ridgeAsLinear(fit);
      head!.weight.set(linear.weights);
      head!.bias[0] = linear.intercept;
    }
  }

  const { steps, evalEvery, checkpointEvery } = trainingSchedule(options, split.train.length, batchSize);
  const objective =
    stage === 'domain'
      ? nextTokenObjective({ backend, examples, train: split.train, valid: validWhileTraining, trainableTags: trainable, evalBatch })
      : classify
        ? logisticObjective({
            backend, examples, labels: logistic!.labels, weights: logistic!.weights, train: split.train, valid: validWhileTraining, functionTag: options.functionTag!,
            head: head!, trainableTags: trainable, trainHead: true, evalBatch, prefixes, cutBeforeTrainable,
          })
        : regressionObjective({
            backend, examples, targets: targets!, train: split.train, valid: validWhileTraining, functionTag: options.functionTag!, head: head!,
            trainableTags: trainable, trainHead: true, evalBatch, prefixes, cutBeforeTrainable,
          });

  const writtenTags = tagNames.filter((t) => trainable.has(t) || !setup.loaded.has(t));
  const labelRange: [number, number] | undefined = classify || stage === 'domain' ? undefined : [Math.min(...split.train.map((i) => y[i])), Math.max(...split.train.map((i) => y[i]))];
  const toBundle = (trust?: TagTrust): TagBundle =>
    makeTagBundle(
      modelFingerprint(model),
      writtenTags.map((name): TagEntry => {
        const isFunction = stage !== 'domain' && name === options.functionTag;
        const training = { stage, data: basename(options.data), label: label ?? null, n_train: split.train.length, seed, lr: options.lr ?? DEFAULT_LR };
        if (!isFunction) return { name, kind: 'domain', description: `${name.slice(1, -1)} domain`, value: values.get(name)!, training };
        const outputs = labelColumns.map((column, j): HeadOutputMeta => ({
          name: column, units: classify ? 'probability' : units, targetMean: scale!.mean, targetStd: scale!.std,
          ...(classify ? { bounds: [0, 1] as const } : { range: labelRange!, ...(bounds && { bounds }) }),
          ...(trust?.approved?.[j] && { approved: trust.approved[j] }),
        }));
        return {
          name, kind: 'function', description, template: task.template.text, value: values.get(name)!, head: head!, outputs, training, task: taskType,
          ...(trust && { metrics: trust.metrics }), ...(trust?.evidence && { evidence: trust.evidence }), ...(trust?.domain && { domain: trust.domain }),
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
    task_type: taskType,
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
  // probabilities for a logistic head, the target's units for a regression head
  const toValues = (o: Float32Array) => Array.from(o, (v) => (classify ? sigmoid(v) : v * scale!.std + scale!.mean));
  const outputsOf = async (rows: readonly number[]) => (await headOutputs(backend, examples, rows, head!, evalBatch, prefixes)).map(toValues);
  let trust: TagTrust | undefined;
  const trustOf = async (testMetrics: MetricsRecord): Promise<TagTrust> => {
    const evidence = tagEvidence(taskType, testMetrics, baselines, options.datasetName ?? datasetName(options.data), split.test.length, split.train.length);
    const sketch = inputs.length === 1 ? sketchKindOf(inputs[0].kind) : undefined;
    let domain: ApplicabilityDomain | undefined;
    if (sketch && split.valid.length > 0) {
      say('applicability domain: sketches of the training inputs, threshold on the validation split');
      const validValues = await outputsOf(split.valid);
      const errors = split.valid.map((i, r) => (classify ? rowBrier(labelRows[i], validValues[r]) : Math.abs(validValues[r][0] - y[i])));
      domain = await applicabilityDomain(sketch, split.train.map((i) => rawInputs[i][0]), split.valid.map((i) => rawInputs[i][0]), errors);
    }
    let approved: ApprovedDistribution[] | undefined;
    if (options.approvedDrugs && inputs.length === 1 && inputs[0].kind === 'smiles') {
      const smiles = await approvedDrugSmiles(options.approvedDrugs);
      say(`predicting ${smiles.length} approved drugs for the percentiles`);
      const drugs = templateExamples(task.template, context, smiles.map((s) => slotValues(task, [s])), values, options.functionTag);
      const drugValues = (await headOutputs(backend, drugs, smiles.map((_, i) => i), head!, evalBatch)).map(toValues);
      approved = labelColumns.map((_, j) => approvedDistribution(options.approvedDrugs!, drugValues.map((v) => v[j])));
    }
    return { metrics: finiteMetrics(testMetrics), ...(evidence && { evidence }), ...(domain && { domain }), ...(approved && { approved }) };
  };
  if (stage === 'domain') {
    test = { nll: await nextTokenNll(backend, examples, split.test, evalBatch) };
    if (options.baselines !== false) baselines.untagged = { nll: await nextTokenNll(backend, plain, split.test, evalBatch) };
  } else {
    const testValues = await outputsOf(split.test);
    test = record(classify ? classificationRecord(labelRows, split.test, testValues) : regressionMetrics(split.test.map((i) => y[i]), testValues.map((v) => v[0]), withCi));
    if (options.baselines !== false) {
      say(classify ? 'baselines: majority class, logistic probes, structure logistic regression' : 'baselines: mean, linear probes, structure ridge');
      const feats = await hiddenFeatures(backend, plain as ExpandedExamples, evalBatch, options.signal);
      const structure = await structureFeatures(rawInputs, inputs.map((i) => i.kind));
      if (classify) {
        baselines.majority = record(majorityBaseline(labelRows, split));
        baselines.logistic_probe_last = record(logisticBaseline(feats.last, labelRows, split));
        baselines.logistic_probe_mean = record(logisticBaseline(feats.mean, labelRows, split));
        if (structure) baselines[structure.name.replace('_ridge', '_logistic')] = record(logisticBaseline(structure.features, labelRows, split));
      } else {
        baselines.mean = record(meanBaseline(y, split, withCi));
        baselines.linear_probe_last = record(ridgeBaseline(feats.last, y, split, withCi));
        baselines.linear_probe_mean = record(ridgeBaseline(feats.mean, y, split, withCi));
        if (structure) baselines[structure.name] = record(ridgeBaseline(structure.features, y, split, withCi));
      }
    }
    if (options.out && !options.evaluateOnly) trust = await trustOf(test);
  }

  if (options.out && !options.evaluateOnly) await saveTagBundle(options.out, toBundle(trust ?? { metrics: finiteMetrics(test) }));
  return report(test, baselines);
}
