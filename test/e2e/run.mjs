// End-to-end tests in real VS Code (code-server) with the extension from this checkout. Started by
// test/run-tests.mjs after the unit tests; one code-server and one browser for the whole suite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startVsCode, runtimePids } from './harness.mjs';
import { clickOn, editorLineWith, hover, hoverImageSources, openFile, runCommand, screenshot, webviewFrame } from './editor.mjs';

const dataDir = process.env.TAGLLM_DATA_DIR ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data');
const model = process.env.TAGLLM_MODEL ?? join(dataDir, 'models', 'stories260K.gguf');

describe('Tag-LLM in VS Code', { timeout: 20 * 60_000 }, () => {
  let vs;
  before(async () => {
    vs = await startVsCode({ settings: { 'tagllm.model': model } });
  });
  after(async () => {
    await vs?.stop();
  });

  test('hovering a SMILES shows its structure and descriptors', async () => {
    await openFile(vs.page, 'analysis.py', 'ASPIRIN');
    const text = await hover(vs.page, 'CC(=O)Oc1ccccc1C(=O)O', 'Tag-LLM');
    await screenshot(vs.page, '01-hover-smiles');
    assert.match(text, /Molecule/);
    assert.match(text, /MW 180\.2 g\/mol/);
    assert.match(text, /QED/);
    const images = await hoverImageSources(vs.page);
    assert.ok(images.some((src) => src.startsWith('data:image/svg+xml;base64,')), `structure image: ${images}`);
  });

  test('hovering a protein sequence shows its card', async () => {
    const text = await hover(vs.page, 'KVFGRCELAAAMKRHG', 'Protein sequence');
    await screenshot(vs.page, '02-hover-protein');
    assert.match(text, /Length 129 aa/);
    assert.match(text, /Composition/);
  });
});
