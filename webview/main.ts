// The predictions panel's script (bundled to dist/webview.js). It renders what the extension posts,
// keeps its state across hide/show with getState/setState, and posts back reveal/export requests.
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeDropdown, vsCodeOption, vsCodeTextField } from '@vscode/webview-ui-toolkit';
import type { EntityRow, FromWebview, ToWebview } from '../src/extension/panelMessages';
import type { EvaluateResult, TrainProgress, TrainResult } from '../src/extension/protocol';
import { domainText, percentileText } from '../src/extension/trustText';
import { lossCurve, parityPlot } from './plots';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeTextField(), vsCodeDropdown(), vsCodeOption());

interface VsCodeApi<S> {
  postMessage(message: FromWebview): void;
  getState(): S | undefined;
  setState(state: S): void;
}
declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

interface PanelState {
  source: string;
  model: string;
  device: string;
  rows: EntityRow[];
  filter: string;
  kind: 'all' | 'smiles' | 'protein';
  sortKey: string;
  sortDescending: boolean;
  training: { tag: string; totalSteps: number; losses: TrainProgress[]; result?: TrainResult; error?: string } | null;
  evaluation: EvaluateResult | null;
}

const vscode = acquireVsCodeApi<PanelState>();
let state: PanelState = vscode.getState() ?? {
  source: '',
  model: '–',
  device: '–',
  rows: [],
  filter: '',
  kind: 'all',
  sortKey: 'where',
  sortDescending: false,
  training: null,
  evaluation: null,
};

function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Partial<Record<string, string>>, ...children: Array<Node | string>): HTMLElementTagNameMap[K];
function h(tag: string, props?: Partial<Record<string, string>>, ...children: Array<Node | string>): HTMLElement;
function h(tag: string, props: Partial<Record<string, string>> = {}, ...children: Array<Node | string>): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(3) : String(Number(v.toFixed(a >= 100 ? 1 : 3)));
}

/** Column keys: fixed ones, then `d:NAME` for descriptors and `p:TAG` for predictions. */
function columns(rows: readonly EntityRow[]): string[] {
  const descriptors = [...new Set(rows.flatMap((r) => r.descriptors.map((d) => `d:${d.name}`)))];
  const tags = [...new Set(rows.flatMap((r) => r.predictions.map((p) => `p:${p.tag}`)))];
  // Predictions before descriptors: they are the point of the panel, and a narrow panel shows the left columns.
  return ['kind', 'text', ...tags, 'where', ...descriptors];
}

function cellValue(row: EntityRow, key: string): string | number | undefined {
  if (key.startsWith('d:')) return row.descriptors.find((d) => d.name === key.slice(2))?.value;
  if (key.startsWith('p:')) {
    const p = row.predictions.find((q) => q.tag === key.slice(2));
    return p?.value ?? p?.text;
  }
  return row[key as 'kind' | 'text' | 'where'];
}

/** A tag's cell: the value (or a text-output tag's words), a bar of its percentile among approved drugs, and a ⚠ when a flag is set. */
function predictionCell(p: EntityRow['predictions'][number], text: string): HTMLElement {
  const td = h('td', { class: p.value === undefined ? 'prediction-cell' : 'num prediction-cell' }, text);
  const percentile = percentileText(p);
  if (percentile) {
    const fill = h('span', { class: 'pct-fill' });
    // through the CSSOM: the panel's content security policy refuses inline style attributes
    fill.style.width = `${Math.round(p.percentile!)}%`;
    td.append(h('span', { class: 'pct-bar', title: `${percentile} of approved drugs` }, fill));
  }
  const domain = domainText(p);
  if ((p.flags ?? []).length > 0) td.append(h('span', { class: 'flag', title: domain! }, '⚠'));
  else if (domain) td.title = domain;
  return td;
}

function visibleRows(): EntityRow[] {
  const needle = state.filter.trim().toLowerCase();
  const rows = state.rows.filter((r) => (state.kind === 'all' || r.kind === state.kind) && (!needle || r.text.toLowerCase().includes(needle) || r.where.toLowerCase().includes(needle)));
  const direction = state.sortDescending ? -1 : 1;
  return rows.sort((a, b) => {
    const x = cellValue(a, state.sortKey);
    const y = cellValue(b, state.sortKey);
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    if (typeof x === 'number' && typeof y === 'number') return direction * (x - y);
    return direction * String(x).localeCompare(String(y), undefined, { numeric: true });
  });
}

function save(): void {
  vscode.setState(state);
}

function renderToolbar(): HTMLElement {
  const filter = h('vscode-text-field', { id: 'filter', placeholder: 'Filter by text or location', value: state.filter });
  filter.addEventListener('input', (e) => {
    state.filter = (e.target as HTMLInputElement).value;
    save();
    renderTable();
  });
  const kind = h('vscode-dropdown', { id: 'kind' }, h('vscode-option', { value: 'all' }, 'All kinds'), h('vscode-option', { value: 'smiles' }, 'Molecules'), h('vscode-option', { value: 'protein' }, 'Proteins'));
  kind.setAttribute('value', state.kind);
  kind.addEventListener('change', (e) => {
    state.kind = (e.target as HTMLSelectElement).value as PanelState['kind'];
    save();
    renderTable();
  });
  const exportButton = h('vscode-button', { id: 'export-csv', appearance: 'secondary' }, 'Export CSV');
  exportButton.addEventListener('click', () => vscode.postMessage({ type: 'exportCsv', ids: visibleRows().map((r) => r.id) }));
  const refresh = h('vscode-button', { id: 'refresh', appearance: 'secondary' }, 'Refresh');
  refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  return h('div', { class: 'toolbar' }, filter, kind, refresh, exportButton);
}

function renderTable(): void {
  const container = document.getElementById('entities');
  if (!container) return;
  const rows = visibleRows();
  const keys = columns(state.rows);
  const header = h('tr', {}, h('th', {}, 'structure'));
  for (const key of keys) {
    const label = key.replace(/^[dp]:/, '');
    const arrow = key === state.sortKey ? (state.sortDescending ? ' ▼' : ' ▲') : '';
    // a tag column's tooltip is its evidence (bundles of format 3), e.g. "RMSE 1.13 · fingerprints 1.43 · mean 2.10 (ESOL, n = 113)"
    const evidence = key.startsWith('p:') ? state.rows.flatMap((r) => r.predictions).find((p) => p.tag === label && p.evidence)?.evidence : undefined;
    const th = h('th', { class: `sortable ${key.startsWith('p:') ? 'prediction' : ''}`, 'data-key': key, title: evidence ? `${label}: ${evidence} · click to sort` : 'Sort' }, label + arrow);
    th.addEventListener('click', () => {
      state.sortDescending = state.sortKey === key ? !state.sortDescending : false;
      state.sortKey = key;
      save();
      renderTable();
    });
    header.append(th);
  }
  const body = h('tbody');
  for (const row of rows) {
    const thumb = row.svg ? h('img', { class: 'thumb', alt: row.text, src: `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(row.svg)))}` }) : h('span', { class: 'muted' }, row.kind === 'protein' ? `${row.text.length} aa` : '');
    const tr = h('tr', { class: 'entity-row', 'data-id': row.id, title: 'Reveal in editor' }, h('td', {}, thumb));
    for (const key of keys) {
      const value = cellValue(row, key);
      const text = typeof value === 'number' ? fmt(value) : (value ?? '');
      const prediction = key.startsWith('p:') ? row.predictions.find((p) => p.tag === key.slice(2)) : undefined;
      if (prediction) {
        tr.append(predictionCell(prediction, text));
        continue;
      }
      const td = h('td', { class: key === 'text' ? 'entity-text' : typeof value === 'number' ? 'num' : '' }, key === 'text' && text.length > 32 ? `${text.slice(0, 31)}…` : text);
      if (key === 'text') td.title = row.text;
      tr.append(td);
    }
    tr.addEventListener('click', () => vscode.postMessage({ type: 'reveal', uri: row.uri, line: row.line, character: row.character }));
    body.append(tr);
  }
  const summary = h('p', { class: 'summary' }, `${rows.length} of ${state.rows.length} entities in ${state.source || 'no document'} · model ${state.model} · device ${state.device}`);
  container.replaceChildren(summary, h('div', { class: 'table-scroll' }, h('table', { class: 'entities' }, h('thead', {}, header), body)));
}

function metricsTable(result: TrainResult): HTMLTableElement {
  const keys = Object.keys(result.test);
  const table = h('table', { class: 'metrics' }, h('thead', {}, h('tr', {}, h('th', {}, 'model'), ...keys.map((k) => h('th', {}, k)))));
  const body = h('tbody');
  body.append(h('tr', { class: 'ours' }, h('td', {}, `Tag-LLM ${result.tag}`), ...keys.map((k) => h('td', { class: 'num' }, fmt(result.test[k])))));
  for (const [name, metrics] of Object.entries(result.baselines)) body.append(h('tr', {}, h('td', {}, name), ...keys.map((k) => h('td', { class: 'num' }, fmt(metrics[k])))));
  table.append(body);
  return table;
}

function renderTraining(): void {
  const container = document.getElementById('training');
  if (!container) return;
  const t = state.training;
  if (!t) {
    container.replaceChildren();
    return;
  }
  const last = t.losses.at(-1);
  const status = t.error
    ? `Training ${t.tag} failed: ${t.error}`
    : t.result
      ? `Trained ${t.tag}: ${t.result.nTrain} train / ${t.result.nTest} test rows in ${t.result.wallSeconds.toFixed(1)} s, saved to ${t.result.bundlePath}`
      : `Training ${t.tag}: step ${last?.step ?? 0} of ${t.totalSteps}${last ? `, loss ${fmt(last.loss)}` : ''}`;
  const parts: Node[] = [h('h2', {}, 'Training'), h('p', { id: 'training-status' }, status), lossCurve(t.losses)];
  if (t.result) parts.push(metricsTable(t.result));
  container.replaceChildren(...parts);
}

function renderEvaluation(): void {
  const container = document.getElementById('evaluation');
  if (!container) return;
  const e = state.evaluation;
  if (!e) {
    container.replaceChildren();
    return;
  }
  const metrics = Object.entries(e.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(' · ');
  container.replaceChildren(h('h2', {}, `Evaluation of ${e.tag}`), h('p', { id: 'evaluation-metrics' }, metrics), parityPlot(e.points));
}

function render(): void {
  const app = document.getElementById('app');
  if (!app) return;
  app.replaceChildren(renderToolbar(), h('section', { id: 'entities' }), h('section', { id: 'training' }), h('section', { id: 'evaluation' }));
  renderTable();
  renderTraining();
  renderEvaluation();
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'entities':
      state = { ...state, source: m.source, rows: m.rows, model: m.model, device: m.device };
      renderTable();
      break;
    case 'trainStart':
      state.training = { tag: m.tag, totalSteps: m.totalSteps, losses: [] };
      renderTraining();
      break;
    case 'trainProgress':
      state.training?.losses.push(m.progress);
      renderTraining();
      break;
    case 'trainResult':
      if (state.training) state.training.result = m.result;
      renderTraining();
      break;
    case 'trainFailed':
      if (state.training) state.training.error = m.message;
      renderTraining();
      break;
    case 'evaluation':
      state.evaluation = m.result;
      renderEvaluation();
      break;
  }
  save();
});

render();
vscode.postMessage({ type: 'ready' });
