// Train Function Tag, Train Domain Tag and Evaluate Tag: quick-pick wizards that collect the inputs, then
// run the work in the runtime process under a cancellable progress notification, with the loss drawn live
// in the predictions panel. A trained bundle lands in the workspace's .tagllm/ and its tag shows in hovers.
// Export Training Job asks what Train Function Tag asks and writes the run as a job folder for the
// PyTorch companion (docs/python-companion.md) under .tagllm/jobs/, to copy to a cluster.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EntityService } from './entityService';
import type { PredictionsPanel } from './predictionsPanel';
import { DataColumns, Evaluate, ExportTrainingJob, type Metrics, TrainDomainTag, TrainFunctionTag, type TrainFunctionParams, type TrainProgress, TrainProgressNotification, type TrainResult } from './protocol';
import type { RuntimeClient } from './runtimeClient';
import { workspaceBundleDir } from './settings';
import { errorLine } from '../runtime/safeText';
import { checkpointStateFileFor } from '../runtime/train/checkpointPaths';
import { existsSync } from 'node:fs';

// Labels the training module computes from the input itself (see runtime/chem): the wizard offers them by kind.
const computedMoleculeLabels = [
  { label: 'qed', description: 'computed by RDKit: quantitative estimate of drug-likeness' },
  { label: 'logp', description: 'computed by RDKit: Crippen cLogP' },
  { label: 'tpsa', description: 'computed by RDKit: topological polar surface area' },
  { label: 'mw', description: 'computed by RDKit: molecular weight' },
];
const computedProteinLabels = [
  { label: 'gravy', description: 'computed from the sequence: Kyte–Doolittle hydropathy (GRAVY)' },
  { label: 'instability', description: 'computed from the sequence: instability index' },
  { label: 'pi', description: 'computed from the sequence: isoelectric point' },
  { label: 'mw', description: 'computed from the sequence: molecular weight' },
  { label: 'aromaticity', description: 'computed from the sequence: aromaticity' },
  { label: 'charge', description: 'computed from the sequence: net charge at pH 7' },
];
const domainTags = ['<SMILES>', '<Protein>'];
const tagNamePattern = /^<[A-Za-z][A-Za-z0-9_-]{0,63}>$/;
const defaultSteps = 200;

export interface TrainingContext {
  client: RuntimeClient;
  entities: EntityService;
  panel: PredictionsPanel;
  /** Called after a bundle was written, so the runtime and the caches pick it up. */
  onBundlesChanged: () => Promise<void>;
}

class WizardCancelled extends Error {}

/** The file's columns, as the runtime's data reader sees them (a CSV header, FASTA id/description/sequence, SD fields). */
function dataColumns(ctx: TrainingContext, dataPath: string): Promise<string[]> {
  return ctx.client.request(DataColumns, { dataPath });
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new WizardCancelled();
  return value;
}

async function pickDataFile(title: string): Promise<string> {
  const files = await vscode.workspace.findFiles('**/*.{csv,tsv,sdf,fasta,fa,faa,smi,txt}', '**/{node_modules,.git,.tagllm}/**', 500);
  const items: Array<vscode.QuickPickItem & { file?: string }> = files
    .map((f) => ({ label: vscode.workspace.asRelativePath(f), file: f.fsPath }))
    .sort((a, b) => a.label.localeCompare(b.label));
  items.push({ label: '$(folder-opened) Browse…' });
  const picked = required(await vscode.window.showQuickPick(items, { title, placeHolder: 'Training data: a CSV, TSV, SDF or FASTA file' }));
  if (picked.file) return picked.file;
  const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Training data': ['csv', 'tsv', 'sdf', 'fasta', 'fa', 'faa', 'smi', 'txt'] } });
  return required(uris?.[0]).fsPath;
}

function looksLikeInput(column: string): boolean {
  return /smiles|sequence|^seq$|protein|molblock/i.test(column);
}

function domainFor(column: string): string {
  return /sequence|^seq$|protein/i.test(column) ? '<Protein>' : '<SMILES>';
}

async function pickInputs(title: string, columns: string[]): Promise<string[]> {
  const picked = required(
    await vscode.window.showQuickPick(
      columns.map((c) => ({ label: c, picked: looksLikeInput(c) })),
      { title, canPickMany: true, placeHolder: 'Input column(s): the molecules or sequences' },
    ),
  );
  if (picked.length === 0) throw new WizardCancelled();
  return picked.map((p) => p.label);
}

const TEXT_OUTPUT = 'text output: the tag learns to write it';

/** The label, and whether it is text the tag writes (a text-output function tag) rather than a number. */
async function pickLabel(title: string, columns: string[], inputs: string[], offerText: boolean): Promise<{ label: string; output?: 'text' }> {
  // A computed label describes the first input, as the training module computes it.
  const computed = inputs.length === 0 ? [] : domainFor(inputs[0]) === '<SMILES>' ? computedMoleculeLabels : computedProteinLabels;
  const others = columns.filter((c) => !inputs.includes(c));
  const items: vscode.QuickPickItem[] = [
    ...others.map((c) => ({ label: c, description: 'column' })),
    ...computed,
    ...(offerText ? others.map((c) => ({ label: c, description: TEXT_OUTPUT })) : []),
  ];
  const placeHolder = offerText ? 'Label: the value the tag learns to predict, or a text column it learns to write' : 'Label: the value the tag predicts';
  const picked = required(await vscode.window.showQuickPick(items, { title, placeHolder }));
  return picked.description === TEXT_OUTPUT ? { label: picked.label, output: 'text' } : { label: picked.label };
}

async function pickDomainTags(title: string, inputs: string[]): Promise<string[]> {
  const suggested = new Set(inputs.map(domainFor));
  const picked = required(
    await vscode.window.showQuickPick(
      domainTags.map((t) => ({ label: t, picked: suggested.has(t) })),
      { title, canPickMany: true, placeHolder: 'Domain tag(s) placed before the inputs' },
    ),
  );
  return inputs.map((c, i) => picked[i]?.label ?? domainFor(c));
}

async function askTagName(title: string, suggestion: string): Promise<string> {
  return required(
    await vscode.window.showInputBox({
      title,
      prompt: 'Name of the new tag, in angle brackets',
      value: suggestion,
      validateInput: (v) => (tagNamePattern.test(v.trim()) ? undefined : 'A tag name looks like <QED>: a letter, then letters, digits, _ or -'),
    }),
  ).trim();
}

async function askSteps(title: string): Promise<number> {
  const text = required(
    await vscode.window.showInputBox({
      title,
      prompt: 'Optimizer steps',
      value: String(defaultSteps),
      validateInput: (v) => (/^[1-9]\d{0,6}$/.test(v.trim()) ? undefined : 'A whole number of steps, at least 1'),
    }),
  );
  return Number(text.trim());
}

function bundleDirFor(tag: string): string {
  const root = workspaceBundleDir();
  if (!root) throw new Error('open a folder first: trained tags are saved in its .tagllm/ folder');
  return path.join(root, tag.replace(/[<>]/g, '').toLowerCase());
}

function requireTrust(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage('Tag-LLM: training writes tag bundles into this workspace; trust the workspace first.');
  return false;
}

function summarizeMetrics(result: TrainResult): string {
  const key = ['mse', 'rmse', 'mae', 'auroc'].find((k) => k in result.test) ?? Object.keys(result.test)[0];
  if (!key) return '';
  const fmt = (m: Metrics) => (m[key] === undefined ? '–' : m[key].toPrecision(3));
  const baselines = Object.entries(result.baselines).map(([name, m]) => `${name} ${fmt(m)}`);
  return `test ${key} ${fmt(result.test)}${baselines.length ? ` (baselines: ${baselines.join(', ')})` : ''}`;
}

async function runTraining(ctx: TrainingContext, tag: string, totalSteps: number, run: (token: vscode.CancellationToken) => Promise<TrainResult>): Promise<TrainResult | undefined> {
  await ctx.panel.show();
  ctx.panel.post({ type: 'trainStart', tag, totalSteps });
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tag-LLM: training ${tag}`, cancellable: true },
      async (progress, token) => {
        let reported = 0;
        const onProgress = (p: TrainProgress) => {
          ctx.panel.post({ type: 'trainProgress', progress: p });
          const done = (100 * p.step) / Math.max(1, p.totalSteps);
          progress.report({ message: `step ${p.step}/${p.totalSteps}, loss ${p.loss.toPrecision(4)}`, increment: done - reported });
          reported = done;
        };
        const subscription = ctx.client.onNotification(TrainProgressNotification, onProgress);
        try {
          return await run(token);
        } finally {
          subscription.dispose();
        }
      },
    );
    ctx.panel.post({ type: 'trainResult', result });
    await ctx.onBundlesChanged();
    const saved = `Saved to ${vscode.workspace.asRelativePath(result.bundlePath)}.`;
    if (result.stoppedBy === 'cancelled') void vscode.window.showWarningMessage(`Tag-LLM: training ${result.tag} cancelled at step ${result.steps}: ${summarizeMetrics(result)}. ${saved}`);
    else void vscode.window.showInformationMessage(`Tag-LLM: trained ${result.tag} in ${result.steps} steps: ${summarizeMetrics(result)}. ${saved}`);
    return result;
  } catch (error) {
    const message = errorLine(error);
    ctx.panel.post({ type: 'trainFailed', message });
    void vscode.window.showErrorMessage(`Tag-LLM: training ${tag} failed: ${message}`);
    return undefined;
  }
}

/** The choices of a function-tag run; `offerText` also offers text columns as a text output to learn. */
async function askFunctionRun(ctx: TrainingContext, title: string, offerText: boolean): Promise<Omit<TrainFunctionParams, 'outDir'>> {
  const dataPath = await pickDataFile(title);
  const columns = await dataColumns(ctx, dataPath);
  const inputColumns = await pickInputs(title, columns);
  const { label: labelColumn, output } = await pickLabel(title, columns, inputColumns, offerText);
  const domainTags = await pickDomainTags(title, inputColumns);
  const tagName = await askTagName(title, `<${labelColumn.replace(/[^A-Za-z0-9_-]/g, '').toUpperCase() || 'PROPERTY'}>`);
  const steps = await askSteps(title);
  return { dataPath, inputColumns, labelColumn, domainTags, tagName, steps, ...(output && { output }) };
}

/** A run into this folder was cancelled or its runtime died: its checkpoint can carry on, when the user says so. */
async function askResume(title: string, outDir: string): Promise<boolean> {
  if (!existsSync(checkpointStateFileFor(outDir))) return false;
  const resume = 'Resume from the checkpoint';
  const picked = required(await vscode.window.showQuickPick([resume, 'Start over'], { title, placeHolder: 'An earlier run of this tag stopped before its end' }));
  return picked === resume;
}

export async function trainFunctionTagCommand(ctx: TrainingContext): Promise<TrainResult | undefined> {
  if (!requireTrust()) return undefined;
  const title = 'Tag-LLM: Train Function Tag';
  try {
    const choice = await askFunctionRun(ctx, title, true);
    const outDir = bundleDirFor(choice.tagName);
    const resume = await askResume(title, outDir);
    return await runTraining(ctx, choice.tagName, choice.steps, (token) => ctx.client.request(TrainFunctionTag, { ...choice, outDir, resume }, token));
  } catch (error) {
    if (error instanceof WizardCancelled) return undefined;
    void vscode.window.showErrorMessage(`Tag-LLM: ${errorLine(error)}`);
    return undefined;
  }
}

export async function exportTrainingJobCommand(ctx: TrainingContext): Promise<string | undefined> {
  if (!requireTrust()) return undefined;
  const title = 'Tag-LLM: Export Training Job';
  try {
    // The PyTorch companion learns regression tags: no text output to offer.
    const choice = await askFunctionRun(ctx, title, false);
    const { tagName } = choice;
    const root = workspaceBundleDir();
    if (!root) throw new Error('open a folder first: jobs are written into its .tagllm/jobs/ folder');
    const outDir = path.join(root, 'jobs', `${tagName.replace(/[<>]/g, '').toLowerCase()}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tag-LLM: exporting a training job for ${tagName}` }, () =>
      ctx.client.request(ExportTrainingJob, { ...choice, outDir }),
    );
    const reveal = 'Reveal Folder';
    void vscode.window
      .showInformationMessage(`Tag-LLM: training job for ${tagName} (${result.rows} rows, ${result.steps} steps) written to ${vscode.workspace.asRelativePath(result.jobDir)}. Run train-torchrun.sh or sbatch train-slurm.sbatch there.`, reveal)
      .then((choice) => (choice === reveal ? vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(result.jobDir, 'job.json'))) : undefined));
    return result.jobDir;
  } catch (error) {
    if (error instanceof WizardCancelled) return undefined;
    void vscode.window.showErrorMessage(`Tag-LLM: ${errorLine(error)}`);
    return undefined;
  }
}

export async function trainDomainTagCommand(ctx: TrainingContext): Promise<TrainResult | undefined> {
  if (!requireTrust()) return undefined;
  const title = 'Tag-LLM: Train Domain Tag';
  try {
    const dataPath = await pickDataFile(title);
    const columns = await dataColumns(ctx, dataPath);
    const inputColumn = columns.length > 1 ? required(await vscode.window.showQuickPick(columns, { title, placeHolder: 'Column holding the unlabeled text' })) : null;
    const tagName = await askTagName(title, inputColumn ? domainFor(inputColumn) : '<SMILES>');
    const steps = await askSteps(title);
    const outDir = bundleDirFor(tagName);
    const resume = await askResume(title, outDir);
    return await runTraining(ctx, tagName, steps, (token) => ctx.client.request(TrainDomainTag, { dataPath, inputColumn, tagName, steps, outDir, resume }, token));
  } catch (error) {
    if (error instanceof WizardCancelled) return undefined;
    void vscode.window.showErrorMessage(`Tag-LLM: ${errorLine(error)}`);
    return undefined;
  }
}

export async function evaluateTagCommand(ctx: TrainingContext, bundlePaths: string[]): Promise<void> {
  const title = 'Tag-LLM: Evaluate Tag';
  try {
    const bundle = required(
      await vscode.window.showQuickPick(
        bundlePaths.map((b) => ({ label: path.basename(b), description: b })),
        { title, placeHolder: bundlePaths.length ? 'Tag bundle to evaluate' : 'No tag bundles are loaded: train one or add one in settings' },
      ),
    );
    const tagName = await askTagName(title, `<${bundle.label.toUpperCase()}>`);
    const dataPath = await pickDataFile(title);
    const columns = await dataColumns(ctx, dataPath);
    const inputColumns = await pickInputs(title, columns);
    const { label: labelColumn } = await pickLabel(title, columns, inputColumns, false);
    await ctx.panel.show();
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tag-LLM: evaluating ${tagName}`, cancellable: true }, (_, token) =>
      ctx.client.request(Evaluate, { bundlePath: bundle.description ?? '', tag: tagName, dataPath, inputColumns, labelColumn }, token),
    );
    ctx.panel.post({ type: 'evaluation', result });
    const metrics = Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toPrecision(3)}`).join(', ');
    void vscode.window.showInformationMessage(`Tag-LLM: ${tagName} on ${path.basename(dataPath)}: ${metrics}`);
  } catch (error) {
    if (error instanceof WizardCancelled) return;
    void vscode.window.showErrorMessage(`Tag-LLM: ${errorLine(error)}`);
  }
}
