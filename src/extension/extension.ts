// Activation entry. Activation only registers providers and commands; the runtime process (RDKit, the
// model, onnxruntime) starts on the first request, i.e. the first hover, scan or command that needs it.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EntityService } from './entityService';
import { commandIds, EntityHoverProvider, type EntityLocation } from './hoverProvider';
import { checkGpuCommand } from './checkGpu';
import { selectDeviceCommand, selectModelCommand } from './modelCommands';
import { NotebookAnnotations } from './notebookAnnotations';
import { PredictionsPanel } from './predictionsPanel';
import { RuntimeClient } from './runtimeClient';
import { runtimeConfig, section } from './settings';
import { RuntimeStatusBar, showLogCommand } from './statusBar';
import { evaluateTagCommand, exportTrainingJobCommand, trainDomainTagCommand, trainFunctionTagCommand, type TrainingContext } from './trainingCommands';
import { WrapCodeActionProvider, wrapInDomainTagCommand } from './wrapInDomainTag';
import { safeLine } from '../runtime/safeText';

// Every document that has text: files, untitled buffers and notebook cells.
const selector: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-notebook-cell' }];

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Tag-LLM Runtime', { log: true });
  const statusBar = new RuntimeStatusBar();
  const client = new RuntimeClient({
    serverPath: path.join(context.extensionPath, 'dist', 'runtimeServer.js'),
    config: runtimeConfig,
    log: (line) => log.info(safeLine(line)),
    onState: (state) => statusBar.update(state, runtimeConfig().modelPath),
  });
  const entities = new EntityService(client, runtimeConfig().cacheSize);
  const panel = new PredictionsPanel(context.extensionUri, entities);
  const annotations = new NotebookAnnotations(entities);
  const onBundlesChanged = async () => {
    await client.reconfigure();
    entities.resizeCaches(runtimeConfig().cacheSize);
    entities.invalidatePredictions();
  };
  const training: TrainingContext = { client, entities, panel, onBundlesChanged };

  context.subscriptions.push(
    log,
    statusBar,
    { dispose: () => client.dispose() },
    entities,
    panel,
    annotations,
    vscode.languages.registerHoverProvider(selector, new EntityHoverProvider(entities, log)),
    vscode.languages.registerCodeActionsProvider(selector, new WrapCodeActionProvider(entities), { providedCodeActionKinds: [vscode.CodeActionKind.RefactorRewrite] }),
    vscode.notebooks.registerNotebookCellStatusBarItemProvider('jupyter-notebook', annotations),
    vscode.commands.registerCommand(commandIds.openPanel, () => panel.show()),
    vscode.commands.registerCommand(commandIds.wrapInDomainTag, (at?: EntityLocation) => wrapInDomainTagCommand(entities, at)),
    vscode.commands.registerCommand('tagllm.trainFunctionTag', () => trainFunctionTagCommand(training)),
    vscode.commands.registerCommand('tagllm.trainDomainTag', () => trainDomainTagCommand(training)),
    vscode.commands.registerCommand('tagllm.exportTrainingJob', () => exportTrainingJobCommand(training)),
    vscode.commands.registerCommand('tagllm.evaluateTag', () => evaluateTagCommand(training, runtimeConfig().bundlePaths)),
    vscode.commands.registerCommand('tagllm.selectModel', selectModelCommand),
    vscode.commands.registerCommand('tagllm.selectDevice', selectDeviceCommand),
    vscode.commands.registerCommand('tagllm.checkGpu', () => checkGpuCommand(client)),
    vscode.commands.registerCommand(showLogCommand, () => log.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(section)) void onBundlesChanged();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void onBundlesChanged()),
    vscode.workspace.onDidCloseTextDocument((d) => entities.forget(d)),
  );
  log.info(`Tag-LLM activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {
  // Subscriptions dispose the runtime process.
}
