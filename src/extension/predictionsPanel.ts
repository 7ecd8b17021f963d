// The "Tag-LLM: Predictions" panel: every entity of the active document or notebook with its structure,
// descriptors and predictions; the live loss curve while a tag trains; the parity plot after evaluation.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { rowsToCsv } from './csvExport';
import type { EntityService } from './entityService';
import type { EntityRow, FromWebview, ToWebview } from './panelMessages';
import type { EntityCard, ScannedEntity } from './protocol';

/** The documents whose entities the panel lists: one text document, or the cells of one notebook. */
interface Source {
  label: string;
  documents: vscode.TextDocument[];
}

function activeSource(): Source | undefined {
  const notebook = vscode.window.activeNotebookEditor?.notebook;
  if (notebook) return { label: path.basename(notebook.uri.path), documents: notebook.getCells().map((c) => c.document) };
  const document = vscode.window.activeTextEditor?.document;
  if (document && document.uri.scheme !== 'output') return { label: path.basename(document.uri.path), documents: [document] };
  return undefined;
}

export class PredictionsPanel implements vscode.Disposable {
  static readonly viewType = 'tagllm.predictions';
  private panel: vscode.WebviewPanel | undefined;
  private source: Source | undefined;
  private rows: EntityRow[] = [];
  /** Messages posted before the webview script said it was ready; a webview drops them otherwise. */
  private pending: ToWebview[] = [];
  private webviewReady = false;
  /** The last training run and evaluation, replayed to a panel opened after (or re-created during) them. */
  private training: ToWebview[] = [];
  private evaluation: ToWebview | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private refreshing = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly entities: EntityService,
  ) {
    this.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.followActiveEditor()),
      vscode.window.onDidChangeActiveNotebookEditor(() => this.followActiveEditor()),
      entities.onDidChangePredictions(() => void this.refresh()),
    );
  }

  /** Opens (or reveals) the panel and lists the entities of the active document or notebook. */
  async show(): Promise<void> {
    this.source = activeSource() ?? this.source;
    if (this.panel) this.panel.reveal(undefined, true);
    else this.create();
    await this.refresh();
  }

  /** Posts to the webview, opening the panel first if needed (training and evaluation report here). */
  post(message: ToWebview): void {
    if (!this.panel) this.create();
    if (message.type === 'trainStart') this.training = [message];
    else if (message.type === 'trainProgress' || message.type === 'trainResult' || message.type === 'trainFailed') this.training.push(message);
    else if (message.type === 'evaluation') this.evaluation = message;
    this.send(message);
  }

  private send(message: ToWebview): void {
    if (this.webviewReady) void this.panel?.webview.postMessage(message);
    else this.pending.push(message);
  }

  async refresh(): Promise<void> {
    if (!this.panel || !this.source) return;
    const ticket = ++this.refreshing;
    const source = this.source;
    // Every entity is asked for at once, so the runtime can batch the predictions.
    const perDocument = await Promise.all(
      source.documents.map(async (document, cellIndex) => {
        const found = await this.entities.entities(document).catch(() => []);
        return Promise.all(found.map((entity) => this.rowOf(source, document, cellIndex, entity)));
      }),
    );
    const rows = perDocument.flat();
    const known = rows.find((r) => r.model !== undefined);
    if (ticket !== this.refreshing) return;
    this.rows = rows.map((r) => r.row);
    this.send({ type: 'entities', source: source.label, rows: this.rows, model: known?.model ?? '–', device: known?.device ?? '–' });
  }

  private async rowOf(source: Source, document: vscode.TextDocument, cellIndex: number, entity: ScannedEntity): Promise<{ row: EntityRow; model?: string; device?: string }> {
    const [card, predictions] = await Promise.all([
      this.entities.card(entity).catch((): EntityCard => ({ descriptors: [] })),
      this.entities.predict(entity).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
    ]);
    const { line, character } = entity.range.start;
    const row: EntityRow = {
      id: `${document.uri.toString()}#${line}:${character}`,
      kind: entity.kind,
      text: entity.text,
      uri: document.uri.toString(),
      line,
      character,
      where: source.documents.length > 1 ? `cell ${cellIndex + 1}:${line + 1}` : `${source.label}:${line + 1}`,
      svg: card.svg,
      descriptors: card.descriptors,
      predictions: predictions instanceof Error ? [] : predictions.predictions,
      predictionError: predictions instanceof Error ? predictions.message : undefined,
    };
    return predictions instanceof Error ? { row } : { row, model: predictions.model, device: predictions.device };
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }

  private followActiveEditor(): void {
    const next = activeSource();
    if (!this.panel || !next) return;
    this.source = next;
    void this.refresh();
  }

  private create(): void {
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    this.panel = vscode.window.createWebviewPanel(PredictionsPanel.viewType, 'Tag-LLM: Predictions', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [media, dist],
    });
    this.panel.iconPath = vscode.Uri.joinPath(media, 'icon.svg');
    this.panel.webview.html = this.html(this.panel.webview, media, dist);
    this.panel.webview.onDidReceiveMessage((m: FromWebview) => void this.onMessage(m));
    this.panel.onDidDispose(() => {
      this.panel = undefined;
      this.webviewReady = false;
      this.pending = [];
    });
    // A hidden webview is torn down (its script restores from getState when shown again and says 'ready'):
    // hold messages until then.
    this.panel.onDidChangeViewState(({ webviewPanel }) => {
      if (!webviewPanel.visible) this.webviewReady = false;
    });
    // A new webview starts empty: it gets the training run and evaluation so far.
    this.pending = [...this.training, ...(this.evaluation ? [this.evaluation] : [])];
  }

  private async onMessage(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready': {
        this.webviewReady = true;
        const queued = this.pending;
        this.pending = [];
        for (const m of queued) void this.panel?.webview.postMessage(m);
        await this.refresh();
        return;
      }
      case 'refresh':
        await this.refresh();
        return;
      case 'reveal': {
        const uri = vscode.Uri.parse(message.uri);
        const position = new vscode.Position(message.line, message.character);
        const cell = vscode.workspace.notebookDocuments.flatMap((n) => n.getCells()).find((c) => c.document.uri.toString() === message.uri);
        if (cell) {
          const editor = await vscode.window.showNotebookDocument(cell.notebook, { viewColumn: vscode.ViewColumn.One });
          editor.revealRange(new vscode.NotebookRange(cell.index, cell.index + 1), vscode.NotebookEditorRevealType.InCenterIfOutsideViewport);
          editor.selections = [new vscode.NotebookRange(cell.index, cell.index + 1)];
          return;
        }
        const editor = await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(position, position) });
        editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        return;
      }
      case 'exportCsv': {
        const wanted = new Set(message.ids);
        const csv = rowsToCsv(this.rows.filter((r) => wanted.has(r.id)));
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        const target = await vscode.window.showSaveDialog({
          defaultUri: folder ? vscode.Uri.joinPath(folder, 'tagllm-predictions.csv') : undefined,
          filters: { CSV: ['csv'] },
        });
        if (!target) return;
        await vscode.workspace.fs.writeFile(target, Buffer.from(csv, 'utf8'));
        void vscode.window.showInformationMessage(`Tag-LLM: exported ${wanted.size} rows to ${target.fsPath}`);
        return;
      }
    }
  }

  private html(webview: vscode.Webview, media: vscode.Uri, dist: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.css'));
    // Structures arrive as data: URIs; nothing is fetched from the network. The toolkit (FAST) probes
    // :focus-visible with a <style> element, which carries the nonce it reads from the csp-nonce meta tag.
    const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource} 'nonce-${nonce}'`, `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Tag-LLM: Predictions</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }
}
