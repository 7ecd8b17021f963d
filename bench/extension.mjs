// Extension latency in real VS Code (code-server + headless chromium, the e2e harness), on stories260K
// with a function tag trained before the workbench starts:
//   activation  loading dist/extension.js (timed in plain Node with a stub `vscode` module) plus the
//               extension's activate(), from its own log line
//   cold hover  first hover after opening a file: runtime process start, RDKit, model and bundle load,
//               scan, card and prediction, until the hover shows the prediction
//   warm hover  100 hovers alternating between entities already seen, mouse on the word until the card shows
// Each hover is timed twice: in the page, from the mouse landing on the word to the card showing (VS Code's
// own hover machinery and rendering included; editor.hover.delay is 0 here), and inside the extension, the
// provider's time (trace lines of the extension log).
//   node bench/extension.mjs   (after npm run build)
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { pretrainBundle, startVsCode } from '../test/e2e/harness.mjs';
import { openFile, pointOf } from '../test/e2e/editor.mjs';

const dataDir = process.env.TAGLLM_DATA_DIR ?? '/work/shared/data';
const model = process.env.TAGLLM_MODEL ?? join(dataDir, 'models', 'stories260K.gguf');
const warmHovers = Number(process.env.TAGLLM_BENCH_HOVERS ?? 100);

function trainingCsv() {
  const lines = readFileSync(join(dataDir, 'molnet', 'esol.csv'), 'utf8').trim().split('\n').slice(1, 49);
  return `smiles\n${lines.map((l) => l.split(',').at(-1).trim()).join('\n')}\n`;
}

function findFile(dir, name) {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    } else if (entry === name) return p;
  }
  return null;
}

/** Milliseconds from the mouse landing on `needle` to a visible hover that contains `expect`. */
async function timedHover(page, needle, expect, timeoutMs) {
  const p = await pointOf(page, needle);
  await page.keyboard.press('Escape');
  await page.mouse.move(10, p.y);
  await page.waitForSelector('.monaco-hover:not(.hidden)', { state: 'hidden', timeout: 5000 }).catch(() => {});
  const started = performance.now();
  await page.mouse.move(p.x, p.y);
  await page.locator('.monaco-hover:not(.hidden)').filter({ hasText: expect }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  return performance.now() - started;
}

/** Milliseconds to require dist/extension.js, with `vscode` stubbed (the extension host provides it). */
function bundleLoadMs() {
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    // Nothing in the bundle touches vscode at load time, so an empty stub is enough.
    const stub = new Proxy(function () {}, { get: () => stub, construct: () => stub, apply: () => stub });
    Module._load = function (request, ...rest) { return request === 'vscode' ? stub : load.call(this, request, ...rest); };
    const t = performance.now();
    require(${JSON.stringify(join(process.cwd(), 'dist', 'extension.js'))});
    console.log(performance.now() - t);`;
  const runs = Array.from({ length: 5 }, () => {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`loading dist/extension.js failed:\n${r.stderr}`);
    return Number(r.stdout);
  });
  return quantile(runs, 0.5);
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const vs = await startVsCode({
  settings: { 'tagllm.model': model, 'editor.hover.delay': 0 },
  serverArgs: ['--log', 'trace'],
  workspaceFiles: { 'train.csv': trainingCsv() },
  prepareWorkspace: (ws) => pretrainBundle({ model, dataPath: join(ws, 'train.csv'), outDir: join(ws, '.tagllm', 'qed'), tagName: '<QED>', labelColumn: 'qed', steps: 4 }),
});
try {
  await openFile(vs.page, 'analysis.py', 'ASPIRIN');
  // The first hover can land before activation (VS Code then shows nothing and does not ask again): retry.
  let cold;
  for (let attempt = 0; cold === undefined; attempt++) {
    cold = await timedHover(vs.page, 'CC(=O)Oc1ccccc1C(=O)O', '<QED>', 30_000).catch((e) => (attempt < 3 ? undefined : Promise.reject(e)));
  }
  const logFile = findFile(join(vs.run, 'ud', 'logs'), 'Tag-LLM Runtime.log');
  const providerTimes = () => [...readFileSync(logFile, 'utf8').matchAll(/hover \w+ ([\d.]+) ms/g)].map((m) => Number(m[1]));
  const log = readFileSync(logFile, 'utf8');
  const activation = Number(log.match(/activated in ([\d.]+) ms/)[1]);
  const loaded = log.match(/loaded .* in (\d+) ms/)?.[1];
  const coldProvider = providerTimes()[0];
  const needles = ['CC(=O)Oc1ccccc1C(=O)O', 'Cn1cnc2c1c(=O)n(C)c(=O)n2C', 'CC(C)Cc1ccc(cc1)C(C)C(=O)O', 'CC(=O)Nc1ccc(O)cc1'];
  for (const n of needles) await timedHover(vs.page, n, '<QED>', 30_000);
  const warmFrom = providerTimes().length;
  const warm = [];
  for (let i = 0; i < warmHovers; i++) warm.push(await timedHover(vs.page, needles[i % needles.length], '<QED>', 10_000));
  const warmProvider = providerTimes().slice(warmFrom);
  const f = (ms) => `${ms.toFixed(0)} ms`;
  const g = (ms) => `${ms.toFixed(2)} ms`;
  const load = bundleLoadMs();
  console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model}; code-server 4.139.1 (VS Code 1.139.1), headless chromium`);
  console.log(`Activation: ${(load + activation).toFixed(1)} ms (bundle load ${load.toFixed(1)} ms + activate() ${activation.toFixed(1)} ms)\n`);
  console.log('| hover | in the page (mouse to card) | in the extension (provider) |');
  console.log('| --- | --- | --- |');
  console.log(`| cold first (runtime start, RDKit, model + bundle load${loaded ? ` ${loaded} ms` : ''}, scan, card, prediction) | ${f(cold)} | ${f(coldProvider)} |`);
  console.log(`| warm p50 over ${warm.length} | ${f(quantile(warm, 0.5))} | ${g(quantile(warmProvider, 0.5))} |`);
  console.log(`| warm p95 over ${warm.length} | ${f(quantile(warm, 0.95))} | ${g(quantile(warmProvider, 0.95))} |`);
  console.log(`| warm max | ${f(Math.max(...warm))} | ${g(Math.max(...warmProvider))} |`);
} finally {
  await vs.stop();
}
