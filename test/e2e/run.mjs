// End-to-end tests in real VS Code (code-server) with the extension from this checkout. Started by
// test/run-tests.mjs after the unit tests; one code-server and one browser serve the whole suite.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pretrainBundle, runtimePids, startVsCode } from './harness.mjs';
import { answerInput, answerPick, clickOn, editorLineWith, hover, hoverImageSources, openFile, runCommand, screenshot, webviewFrame } from './editor.mjs';

const dataDir = process.env.TAGLLM_DATA_DIR ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data');
const model = process.env.TAGLLM_MODEL ?? join(dataDir, 'models', 'stories260K.gguf');

/** 48 ESOL molecules as the small training file, read from the shared data at run time. */
function trainingCsv() {
  const lines = readFileSync(join(dataDir, 'molnet', 'esol.csv'), 'utf8').trim().split('\n').slice(1, 49);
  return `smiles\n${lines.map((l) => l.split(',').at(-1).trim()).join('\n')}\n`;
}

// One <QED> bundle, trained through the extension's runtime process before any workbench starts, for every suite.
const pretrained = mkdtempSync(join(tmpdir(), 'tagllm-e2e-bundle-'));
before(async () => {
  const csv = join(pretrained, 'train.csv');
  writeFileSync(csv, trainingCsv());
  await pretrainBundle({ model, dataPath: csv, outDir: join(pretrained, 'qed'), tagName: '<QED>', labelColumn: 'qed', steps: 4 });
});
after(() => rmSync(pretrained, { recursive: true, force: true }));
const withBundle = (ws) => cpSync(join(pretrained, 'qed'), join(ws, '.tagllm', 'qed'), { recursive: true });

describe('Tag-LLM in VS Code', { timeout: 30 * 60_000 }, () => {
  let vs;
  before(async () => {
    vs = await startVsCode({ settings: { 'tagllm.model': model }, workspaceFiles: { 'train.csv': trainingCsv() }, prepareWorkspace: withBundle });
  });
  after(async () => {
    await vs?.stop();
  });

  test('hovering a SMILES shows its structure, descriptors and predictions', async () => {
    await openFile(vs.page, 'analysis.py', 'ASPIRIN');
    const text = await hover(vs.page, 'CC(=O)Oc1ccccc1C(=O)O', '<QED>');
    await screenshot(vs.page, '01-hover-smiles');
    assert.match(text, /Molecule/);
    assert.match(text, /MW 180\.2 g\/mol/);
    assert.match(text, /QED 0\.55/);
    assert.match(text, /<QED>\s+-?\d+(\.\d+)?\s.*\sqed/, 'the <QED> prediction row, with the bundle');
    assert.match(text, /model stories260K\.gguf · device cpu/);
    const images = await hoverImageSources(vs.page);
    assert.ok(images.some((src) => src.startsWith('data:image/svg+xml;base64,')), `structure image: ${images}`);
  });

  test('hovering a protein sequence shows its card', async () => {
    await openFile(vs.page, 'analysis.py', 'LYSOZYME');
    const text = await hover(vs.page, 'KVFGRCELAAAMKRHG', 'Protein sequence');
    await screenshot(vs.page, '02-hover-protein');
    assert.match(text, /Length 129 aa/);
    assert.match(text, /pI \d/);
    assert.match(text, /Composition/);
  });

  test('Wrap in domain tag edits the text, and Undo restores it', async () => {
    await openFile(vs.page, 'analysis.py', 'PARACETAMOL');
    await vs.page.mouse.move(10, 450);
    await clickOn(vs.page, 'CC(=O)Nc1ccc(O)cc1');
    await runCommand(vs.page, 'Tag-LLM: Wrap in Domain Tag');
    await vs.page.waitForFunction(() => [...document.querySelectorAll('.view-line')].some((l) => l.textContent.replace(/\u00a0/g, ' ').includes('"<SMILES> CC(=O)Nc1ccc(O)cc1"')), null, { timeout: 20_000 });
    await screenshot(vs.page, '03-wrapped');
    assert.equal(await editorLineWith(vs.page, 'PARACETAMOL'), 'PARACETAMOL = "<SMILES> CC(=O)Nc1ccc(O)cc1"');
    // A second wrap is refused rather than doubling the tag.
    await runCommand(vs.page, 'Tag-LLM: Wrap in Domain Tag');
    await vs.page.locator('.notifications-toasts', { hasText: 'already follows <SMILES>' }).waitFor({ timeout: 15_000 });
    assert.equal(await editorLineWith(vs.page, 'PARACETAMOL'), 'PARACETAMOL = "<SMILES> CC(=O)Nc1ccc(O)cc1"');
    await vs.page.keyboard.press('Escape');
    await clickOn(vs.page, 'CC(=O)Nc1ccc(O)cc1');
    await vs.page.keyboard.press('Control+Z');
    await vs.page.waitForFunction(() => [...document.querySelectorAll('.view-line')].some((l) => l.textContent.replace(/\u00a0/g, ' ') === 'PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"'), null, { timeout: 10_000 });
    await screenshot(vs.page, '04-undone');
  });

  test('the predictions panel lists every entity of the document', async () => {
    await openFile(vs.page, 'analysis.py', 'ASPIRIN');
    await runCommand(vs.page, 'Tag-LLM: Open Predictions');
    const frame = await webviewFrame(vs.page, '.entity-row');
    await frame.waitForFunction(() => document.querySelectorAll('.entity-row').length >= 5, null, { timeout: 60_000 });
    const texts = await frame.locator('.entity-row td.entity-text').evaluateAll((tds) => tds.map((td) => td.getAttribute('title')));
    await screenshot(vs.page, '05-panel');
    assert.deepEqual(texts.sort(), ['CC(=O)Nc1ccc(O)cc1', 'CC(=O)Oc1ccccc1C(=O)O', 'CC(C)Cc1ccc(cc1)C(C)C(=O)O', 'Cn1cnc2c1c(=O)n(C)c(=O)n2C', readFileSync(join(vs.workspace, 'analysis.py'), 'utf8').match(/LYSOZYME = "(\w+)"/)[1]].sort());
    const headers = await frame.locator('th').allInnerTexts();
    assert.ok(headers.some((h) => h.includes('<QED>')), `columns: ${headers}`);
    await frame.locator('th[data-key="p:<QED>"]').click();
    await frame.locator('vscode-text-field#filter').click();
    await vs.page.keyboard.type('Cn1');
    await frame.waitForFunction(() => document.querySelectorAll('.entity-row').length === 1, null, { timeout: 10_000 });
    await screenshot(vs.page, '06-panel-filtered');
    await vs.page.keyboard.press('Control+A');
    await vs.page.keyboard.press('Backspace');
    // A click on a row reveals the entity in the editor.
    await frame.waitForFunction(() => document.querySelectorAll('.entity-row').length === 5, null, { timeout: 10_000 });
    await frame.locator('.entity-row', { hasText: 'CC(=O)Nc1ccc(O)cc1' }).click();
    await vs.page.locator('.statusbar-item', { hasText: /Ln 15, Col 16/ }).waitFor({ timeout: 10_000 });
    const blocked = vs.consoleLines.filter((l) => /Content Security Policy/i.test(l));
    assert.deepEqual(blocked, [], 'the webview loads nothing its CSP forbids');
    await runCommand(vs.page, 'View: Close Editor');
  });

  test('the notebook shows cell annotations with predictions', async () => {
    await openFile(vs.page, 'screen.ipynb');
    const annotation = vs.page.locator('.cell-statusbar-container').filter({ hasText: 'Tag-LLM' }).first();
    await annotation.waitFor({ state: 'visible', timeout: 90_000 });
    await vs.page.locator('.cell-statusbar-container').filter({ hasText: '<QED>' }).first().waitFor({ timeout: 60_000 });
    const all = await vs.page.locator('.cell-statusbar-container').allInnerTexts();
    await screenshot(vs.page, '07-notebook');
    const tagged = all.filter((t) => t.includes('Tag-LLM'));
    assert.ok(tagged.some((t) => /2 molecules · <QED> -?\d/.test(t)), `cell annotations: ${JSON.stringify(tagged)}`);
    assert.ok(tagged.some((t) => /1 protein/.test(t)), `cell annotations: ${JSON.stringify(tagged)}`);
    assert.equal(tagged.length, 2, 'only the two cells with entities are annotated');
    // Hovers work inside notebook cells too.
    const text = await hover(vs.page, 'O=C(O)c1ccccc1O', '<QED>');
    await screenshot(vs.page, '07b-notebook-hover');
    assert.match(text, /MW 138\.1 g\/mol/);
  });

  test('a sequence wrapped over four lines of a notebook cell is one entity: hover, wrap and undo', async () => {
    const cell = JSON.parse(readFileSync(join(vs.workspace, 'construct.ipynb'), 'utf8')).cells[1].source;
    const lines = cell.slice(2, 6).map((l) => l.trimEnd());
    const sequence = lines.join('');
    await openFile(vs.page, 'construct.ipynb', lines[0]);
    // The third line alone would be a 60-residue protein of its own; the card shows all 217 residues.
    const text = await hover(vs.page, lines[2].slice(20, 40), 'Protein sequence');
    await screenshot(vs.page, '07c-notebook-wrapped-hover');
    assert.match(text, new RegExp(`Length ${sequence.length} aa`));
    await vs.page.keyboard.press('Escape');
    await clickOn(vs.page, lines[2].slice(20, 40));
    await runCommand(vs.page, 'Tag-LLM: Wrap in Domain Tag');
    await vs.page.waitForFunction((first) => [...document.querySelectorAll('.view-line')].some((l) => l.textContent.replace(/\u00a0/g, ' ') === `<Protein> ${first}`), lines[0], { timeout: 20_000 });
    await screenshot(vs.page, '07d-notebook-wrapped');
    // One tag before the first residue; the other lines are untouched.
    for (const line of lines.slice(1)) assert.equal(await editorLineWith(vs.page, line), line);
    await clickOn(vs.page, lines[2].slice(20, 40));
    await vs.page.keyboard.press('Control+Z');
    await vs.page.waitForFunction((first) => [...document.querySelectorAll('.view-line')].some((l) => l.textContent.replace(/\u00a0/g, ' ') === first), lines[0], { timeout: 10_000 });
    assert.equal(await editorLineWith(vs.page, lines[0]), lines[0]);
    await screenshot(vs.page, '07e-notebook-wrapped-undone');
    await runCommand(vs.page, 'File: Revert File');
    await runCommand(vs.page, 'View: Close Editor');
  });

  test('Train Function Tag finishes, reports metrics, and its prediction appears in hovers', async () => {
    const page = vs.page;
    await openFile(page, 'analysis.py', 'ASPIRIN');
    await runCommand(page, 'Tag-LLM: Train Function Tag');
    await answerPick(page, 'train.csv');
    // Input columns and domain tags are multi-selects with the right rows preselected.
    await answerPick(page, 'smiles', { type: false });
    await answerPick(page, 'logp');
    await answerPick(page, '<SMILES>', { type: false });
    await answerInput(page); // the suggested name, <LOGP>
    await answerInput(page, '4'); // steps
    const done = page.locator('.notifications-toasts .notification-list-item').filter({ hasText: 'trained <LOGP>' });
    await done.waitFor({ state: 'visible', timeout: 10 * 60_000 });
    const message = await done.innerText();
    await screenshot(page, '08-trained');
    assert.match(message, /test mse [\d.e+-]+ \(baselines: mean [\d.e+-]+/);
    const frame = await webviewFrame(page, '#training-status');
    assert.match(await frame.locator('#training-status').innerText(), /Trained <LOGP>/);
    assert.ok((await frame.locator('svg.loss-curve polyline').count()) >= 1, 'a loss curve');
    await runCommand(page, 'View: Close Editor');
    await openFile(page, 'analysis.py', 'ASPIRIN');
    const text = await hover(page, 'Cn1cnc2c1c(=O)n(C)c(=O)n2C', '<LOGP>');
    await screenshot(page, '09-hover-new-tag');
    assert.match(text, /<LOGP>\s+-?\d/);
    assert.match(text, /<QED>\s+-?\d/);
  });

  test('Evaluate Tag draws a parity plot in the panel', async () => {
    const page = vs.page;
    await openFile(page, 'analysis.py', 'ASPIRIN');
    await runCommand(page, 'Tag-LLM: Evaluate Tag');
    await answerPick(page, 'qed'); // the bundle .tagllm/qed
    await answerInput(page); // its tag, <QED>
    await answerPick(page, 'train.csv');
    await answerPick(page, 'smiles', { type: false });
    await answerPick(page, 'qed'); // the label, computed by RDKit
    const frame = await webviewFrame(page, 'svg.parity circle', 120_000);
    const points = await frame.locator('svg.parity circle').count();
    const metrics = await frame.locator('#evaluation-metrics').innerText();
    await frame.locator('svg.parity').scrollIntoViewIfNeeded();
    await screenshot(page, '09b-parity');
    assert.equal(points, 48, 'one point per row of train.csv');
    assert.match(metrics, /mse [\d.e+-]+ · rmse/);
    await runCommand(page, 'View: Close Editor');
  });

  test('the runtime process is killed during a hover session, restarts, and the next hover works', async () => {
    await openFile(vs.page, 'analysis.py', 'ASPIRIN');
    await hover(vs.page, 'CC(=O)Oc1ccccc1C(=O)O', '<QED>');
    const before = runtimePids(vs.extensionDir);
    assert.equal(before.length, 1, `one runtime process: ${before}`);
    process.kill(before[0], 'SIGKILL');
    await sleep(500);
    // A file not opened before: scanning it, drawing and predicting all need the runtime again.
    await openFile(vs.page, 'compounds.csv', 'nicotine');
    const text = await hover(vs.page, 'CN1CCC[C@H]1c1cccnc1', '<QED>');
    await screenshot(vs.page, '10-hover-after-restart');
    assert.match(text, /MW 162\.2 g\/mol/);
    assert.match(text, /<QED>\s+-?\d/);
    const after = runtimePids(vs.extensionDir);
    assert.equal(after.length, 1);
    assert.notEqual(after[0], before[0]);
  });
});

describe('Tag-LLM in Restricted Mode', { timeout: 10 * 60_000 }, () => {
  let vs;
  before(async () => {
    // The model and the bundle are named only by the workspace: its settings and its .tagllm/ folder.
    vs = await startVsCode({ settings: {}, trusted: false, workspaceFiles: { '.vscode/settings.json': JSON.stringify({ 'tagllm.model': model }) }, prepareWorkspace: withBundle });
  });
  after(async () => {
    await vs?.stop();
  });

  test('an untrusted workspace gets cards but loads neither the model nor the bundle it names', async () => {
    assert.ok(existsSync(join(vs.workspace, '.tagllm', 'qed', 'tagbundle.json')), 'the workspace does hold a bundle');
    await openFile(vs.page, 'analysis.py', 'ASPIRIN');
    const text = await hover(vs.page, 'CC(=O)Oc1ccccc1C(=O)O', 'Molecule');
    await screenshot(vs.page, '11-restricted-mode');
    assert.match(text, /MW 180\.2 g\/mol/);
    assert.match(text, /No function tags loaded/);
    assert.match(text, /model no model/);
    assert.doesNotMatch(text, /<QED>/);
  });
});

describe('Tag-LLM with the default bundle: evidence, percentiles and the applicability domain', { timeout: 10 * 60_000 }, () => {
  let vs;
  before(async () => {
    vs = await startVsCode({ settings: { 'tagllm.model': model, 'tagllm.bundles': [join(import.meta.dirname, '..', '..', 'bundles', 'default')] } });
  });
  after(async () => {
    await vs?.stop();
  });

  test('a hover shows each value with its percentile among approved drugs, its domain flag and its evidence', async () => {
    await openFile(vs.page, 'analysis.py', 'ASPIRIN');
    const text = await hover(vs.page, 'CC(=O)Oc1ccccc1C(=O)O', 'RMSE');
    await screenshot(vs.page, '12-hover-evidence');
    // the exact descriptors stay in view
    assert.match(text, /MW 180\.2 g\/mol/);
    assert.match(text, /<ESOL>\s+-?\d+(\.\d+)? log mol\/L\s+\d+(st|nd|rd|th) percentile\s+(✓|⚠ outside training domain) \(?similarity \d\.\d\d\)?/);
    assert.match(text, /<BBBP>\s+0?\.\d+ probability\s+\d+(st|nd|rd|th) percentile/);
    assert.match(text, /<ESOL> RMSE \d\.\d\d · [a-z -]+ \d\.\d\d(\d)? · mean \d\.\d\d \(ESOL, n = 113\)/);
    assert.match(text, /<BBBP> ROC-AUC 0\.\d{3} · .* \(BBBP, n = \d+\)/);
  });

  test('the panel shows each tag\'s value with a percentile bar and its flag, the evidence as the column tooltip', async () => {
    await openFile(vs.page, 'analysis.py', 'ASPIRIN');
    await runCommand(vs.page, 'Tag-LLM: Open Predictions');
    const frame = await webviewFrame(vs.page, '.entity-row');
    await frame.waitForFunction(() => document.querySelectorAll('.entity-row .pct-bar').length >= 4, null, { timeout: 60_000 });
    await screenshot(vs.page, '13-panel-evidence');
    const tooltip = await frame.locator('th[data-key="p:<ESOL>"]').getAttribute('title');
    assert.match(tooltip, /<ESOL>: RMSE \d\.\d\d · .* \(ESOL, n = 113\)/);
    const fills = await frame.locator('.entity-row .pct-fill').evaluateAll((spans) => spans.map((s) => s.style.width));
    assert.ok(fills.every((w) => /^\d+%$/.test(w)), `percentile bars: ${fills}`);
    // aspirin is less similar to ESOL's training molecules than the tag's threshold
    const aspirin = frame.locator('.entity-row', { hasText: 'CC(=O)Oc1ccccc1C(=O)O' });
    assert.ok((await aspirin.locator('.flag').count()) >= 1, 'aspirin carries a flag');
    const blocked = vs.consoleLines.filter((l) => /Content Security Policy/i.test(l));
    assert.deepEqual(blocked, [], 'the webview loads nothing its CSP forbids');
  });
});
