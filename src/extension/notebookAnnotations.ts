// Notebook cell annotations: a status bar item under each cell that holds molecules or sequences,
// summarising the Tag-LLM predictions. Refreshed when a cell changes, when predictions change, and
// when the setting is switched.
import * as vscode from 'vscode';
import type { EntityService } from './entityService';
import { predictionResult } from './hoverCard';
import type { Predictions, ScannedEntity } from './protocol';
import { isEnabledFor, notebookAnnotationsEnabled, section } from './settings';

const refreshDelayMs = 400;
const maxPredictionsShown = 3;

export function cellSummary(entities: readonly ScannedEntity[], predictions: readonly Predictions[]): string {
  const molecules = entities.filter((e) => e.kind === 'smiles').length;
  const proteins = entities.length - molecules;
  const counts = [molecules && `${molecules} molecule${molecules > 1 ? 's' : ''}`, proteins && `${proteins} protein${proteins > 1 ? 's' : ''}`].filter(Boolean);
  // The first entity's predictions stand for the cell; the tooltip lists them all.
  const first = predictions[0]?.predictions.slice(0, maxPredictionsShown) ?? [];
  const shown = first.map((p) => `${p.tag} ${predictionResult(p)}`);
  return `$(beaker) Tag-LLM: ${counts.join(', ')}${shown.length ? ` · ${shown.join(' · ')}` : ''}`;
}

export class NotebookAnnotations implements vscode.NotebookCellStatusBarItemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCellStatusBarItems = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly entities: EntityService) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme === 'vscode-notebook-cell') this.refreshSoon();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${section}.notebookAnnotations`) || e.affectsConfiguration(`${section}.enabled`)) this.changed.fire();
      }),
      entities.onDidChangePredictions(() => this.changed.fire()),
    );
  }

  async provideCellStatusBarItems(cell: vscode.NotebookCell): Promise<vscode.NotebookCellStatusBarItem[]> {
    if (!notebookAnnotationsEnabled() || !isEnabledFor(cell.document)) return [];
    const found = await this.entities.entities(cell.document).catch(() => []);
    if (found.length === 0) return [];
    const predictions = await Promise.all(found.map((e) => this.entities.predict(e).catch(() => null)));
    const known = predictions.filter((p): p is Predictions => p !== null);
    const item = new vscode.NotebookCellStatusBarItem(cellSummary(found, known), vscode.NotebookCellStatusBarAlignment.Left);
    item.tooltip = tooltip(found, predictions);
    item.command = { title: 'Open Predictions', command: 'tagllm.openPanel' };
    return [item];
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.changed.dispose();
    for (const s of this.subscriptions) s.dispose();
  }

  private refreshSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(), refreshDelayMs);
  }
}

function tooltip(entities: readonly ScannedEntity[], predictions: ReadonlyArray<Predictions | null>): string {
  return entities
    .map((e, i) => {
      const p = predictions[i];
      const values = p ? p.predictions.map((x) => `${x.tag} ${predictionResult(x)}`).join(', ') : 'no predictions';
      return `${e.kind === 'smiles' ? 'Molecule' : 'Protein'} ${e.text.length > 40 ? `${e.text.slice(0, 39)}…` : e.text}: ${values || 'no function tags loaded'}`;
    })
    .join('\n');
}
