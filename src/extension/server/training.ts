// Training and evaluation in the runtime process: the training module's stage runner for Train Function
// Tag and Train Domain Tag (and Export Training Job, the same run as a job folder for PyTorch), and the predictor over a labelled file for Evaluate Tag (which also needs the
// individual predictions, for the parity plot).
import * as path from 'node:path';
import { inputKindOfDomain, loadExamples } from '../../runtime/data/examples';
import { UsageError } from '../../runtime/errors';
import { createPredictor } from '../../runtime/predict';
import { readRecords } from '../../runtime/data/records';
import { loadTagBundle } from '../../runtime/tags/bundleFiles';
import { modelFingerprint } from '../../runtime/tags/fingerprint';
import { parseTagName, type TagName } from '../../runtime/tags/name';
import { lastTag, parseTemplate } from '../../runtime/tags/template';
import { classificationMetrics, regressionMetrics } from '../../runtime/train/metrics';
import { runStage, type StageOptions, type StageReport } from '../../runtime/train/stages';
import { runTextStage } from '../../runtime/train/textStage';
import { trainSession } from '../../runtime/session/trainSession';
import { exportTrainingJob } from '../../runtime/train/exportJob';
import type { EvaluateParams, EvaluateResult, ExportJobParams, ExportJobResult, Metrics, RuntimeConfig, TrainDomainParams, TrainFunctionParams, TrainProgress, TrainResult } from '../protocol';
import { sharedModel } from './models';

/** Rows an evaluation reads at most: enough for a parity plot and stable metrics, bounded in time. */
const maxEvaluationRows = 2000;
/** Test rows a text-output tag writes for after training (each a generation, so slower than a regression row). */
const maxTextTestRows = 100;

export function dataColumns(dataPath: string): string[] {
  return [...readRecords(dataPath).columns];
}

/** Metrics as JSON can carry them: undefined ones (a correlation of a constant prediction) are left out. */
function finite(record: Readonly<Record<string, number | null | undefined>>): Metrics {
  return Object.fromEntries(Object.entries(record).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
}

function resultOf(report: StageReport, tag: string, outDir: string): TrainResult {
  return {
    bundlePath: report.out ?? outDir,
    tag,
    nTrain: report.n_train,
    nTest: report.n_test,
    test: finite(report.test),
    baselines: Object.fromEntries(Object.entries(report.baselines).map(([k, v]) => [k, finite(v)])),
    steps: report.steps,
    stoppedBy: report.stopped_by,
    wallSeconds: report.wall_s,
  };
}

/** How a run reports back to the extension: an abort signal, loss progress and log lines. */
export interface RunChannel {
  signal: AbortSignal;
  progress: (p: TrainProgress) => void;
  log: (line: string) => void;
}

type StageChoice = Omit<StageOptions, 'model' | 'backend' | 'out' | 'signal' | 'onProgress' | 'onMessage'>;

/** Runs one stage on the configured model and device, writing the bundle to outDir. */
async function trainStage(config: RuntimeConfig, choice: StageChoice, tag: TagName, outDir: string, run: RunChannel): Promise<TrainResult> {
  const model = await sharedModel(config.modelPath);
  const backend = await trainSession(model, { provider: config.device });
  const report = await runStage({
    ...choice,
    model,
    backend,
    out: outDir,
    signal: run.signal,
    onProgress: (p) => run.progress({ step: p.step, totalSteps: p.totalSteps, loss: p.loss, ...(p.validationLoss !== undefined && { validLoss: p.validationLoss }) }),
    onMessage: run.log,
  });
  return resultOf(report, tag, outDir);
}

export function trainFunctionTag(config: RuntimeConfig, params: TrainFunctionParams, run: RunChannel): Promise<TrainResult> {
  if (params.output === 'text') return trainTextTag(config, params, parseTagName(params.tagName, 'tag name'), run);
  const choice = functionChoice(params);
  return trainStage(config, choice, choice.functionTag!, params.outDir, run);
}

/** The stage a Train Function Tag choice runs: function on one input, cross on several. */
function functionChoice(params: TrainFunctionParams): StageChoice {
  const functionTag = parseTagName(params.tagName, 'tag name');
  return {
    stage: params.inputColumns.length > 1 ? 'cross' : 'function',
    data: params.dataPath,
    inputColumns: params.inputColumns,
    domains: params.domainTags.map((d) => parseTagName(d, 'domain tag')),
    functionTag,
    label: params.labelColumn,
    steps: params.steps,
    resume: params.resume === true,
  };
}

/** Export Training Job: the choices of Train Function Tag as a job folder (data, job.json, torchrun and Slurm scripts) at outDir. */
export async function exportJob(config: RuntimeConfig, params: ExportJobParams): Promise<ExportJobResult> {
  const model = await sharedModel(config.modelPath);
  const { job, rows } = await exportTrainingJob({ ...functionChoice(params), model, out: params.outDir });
  return { jobDir: params.outDir, rows, steps: job.steps };
}

/**
 * A text-output function tag: the label column is the text it learns to write, after the inputs in the
 * paper's placement (`Input: <SMILES> {smiles} Output: <TAG> {label}`); the result's metrics are chrF
 * and BLEU on the test rows, beside the untagged model with an instruction and with 3 solved examples.
 */
async function trainTextTag(config: RuntimeConfig, params: TrainFunctionParams, functionTag: TagName, run: RunChannel): Promise<TrainResult> {
  const model = await sharedModel(config.modelPath);
  const backend = await trainSession(model, { provider: config.device });
  const table = readRecords(params.dataPath);
  const slots = [...params.inputColumns, params.labelColumn].map((c) => c.trim().toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z]/, 'c$&'));
  const inputs = params.inputColumns.map((_, k) => `${parseTagName(params.domainTags[k], 'domain tag')} {${slots[k]}}`).join(' ');
  const template = `Input: ${inputs} Output: ${functionTag} {${slots.at(-1)}}`;
  const index = [...params.inputColumns, params.labelColumn].map((c) => table.columns.indexOf(c));
  const report = await runTextStage({
    stage: params.inputColumns.length > 1 ? 'cross' : 'function', model, backend, dataName: params.dataPath, tasks: [{ template }],
    rows: table.rows.map((row) => Object.fromEntries(slots.map((slot, k) => [slot, row[index[k]] ?? '']))),
    steps: params.steps, out: params.outDir, signal: run.signal, testRows: maxTextTestRows, onMessage: run.log,
    onProgress: (p) => run.progress({ step: p.step, totalSteps: p.totalSteps, loss: p.loss, ...(p.validationLoss !== undefined && { validLoss: p.validationLoss }) }),
  });
  const [task] = report.tasks;
  return {
    bundlePath: report.out ?? params.outDir, tag: functionTag, nTrain: report.n_train, nTest: Math.min(report.n_test, maxTextTestRows),
    test: { ...task.test }, baselines: Object.fromEntries(Object.entries(task.baselines).map(([k, v]) => [k, { ...v }])),
    steps: report.steps, stoppedBy: report.stopped_by, wallSeconds: report.wall_s,
  };
}

export function trainDomainTag(config: RuntimeConfig, params: TrainDomainParams, run: RunChannel): Promise<TrainResult> {
  const tag = parseTagName(params.tagName, 'tag name');
  // Files without columns (.smi, .txt) give one item per line: column `smiles` for .smi, `text` otherwise.
  const column = params.inputColumn ?? (/\.smi$/i.test(params.dataPath) ? 'smiles' : 'text');
  const choice: StageChoice = { stage: 'domain', data: params.dataPath, inputColumns: [column], domains: [tag], steps: params.steps, resume: params.resume === true };
  return trainStage(config, choice, tag, params.outDir, run);
}

export async function evaluateTag(config: RuntimeConfig, params: EvaluateParams, signal: AbortSignal): Promise<EvaluateResult> {
  const model = await sharedModel(config.modelPath);
  const bundle = await loadTagBundle(params.bundlePath, modelFingerprint(model));
  const tag = parseTagName(params.tag, 'tag name');
  const meta = bundle.bundle.meta.tags[tag];
  if (meta?.kind !== 'function' || !meta.template) throw new UsageError(`bundle has no function tag ${tag}; it holds ${Object.keys(bundle.bundle.meta.tags).join(', ')}`, params.bundlePath);
  const template = parseTemplate(meta.template);
  // The template's tags before the function tag are the inputs' domain tags, in slot order.
  const domains = template.tags.filter((t) => t !== lastTag(template));
  if (domains.length !== params.inputColumns.length || template.slots.length !== params.inputColumns.length) {
    throw new UsageError(`${tag} reads ${template.slots.length} input(s) (${template.slots.join(', ')}); ${params.inputColumns.length} column(s) were given`, params.bundlePath);
  }
  const set = await loadExamples({
    path: params.dataPath,
    inputColumns: params.inputColumns,
    inputKinds: domains.map((d) => inputKindOfDomain(d)),
    label: params.labelColumn,
    limit: maxEvaluationRows,
  });
  if (set.examples.length === 0) throw new UsageError(`no usable rows (${set.nSkipped} skipped)`, params.dataPath);
  const predictor = await createPredictor({ model, bundles: [bundle], provider: config.device });
  const inputs = set.examples.map((e) => Object.fromEntries(template.slots.map((slot, k) => [slot, e.inputs[k]])));
  const predictions = await predictor.predict(inputs, { functionTag: tag as TagName, signal });
  const points = predictions.map((values, i): [number, number] => [values[0].value, set.examples[i].label ?? NaN]);
  // a classification tag's points are [probability, 0/1 label]
  const labels = points.map((p) => p[1]);
  const values = points.map((p) => p[0]);
  const metrics = meta.task === 'classification' ? classificationMetrics(labels, values) : regressionMetrics(labels, values);
  return { tag, metrics: finite({ ...metrics }), points, dataFile: path.basename(params.dataPath), nSkipped: set.nSkipped };
}
