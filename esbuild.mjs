// One build script for every bundle: the CLI, the runtime server process, the extension and the webview.
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';

const nodeEntries = [
  { in: 'src/cli/main.ts', out: 'cli' },
  { in: 'src/extension/extension.ts', out: 'extension' },
  { in: 'src/extension/runtimeServer.ts', out: 'runtimeServer' },
].filter((e) => existsSync(e.in));

const common = { bundle: true, sourcemap: true, logLevel: 'warning', legalComments: 'none' };

await build({
  ...common,
  entryPoints: nodeEntries,
  outdir: 'dist',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Native or WASM-bearing packages stay outside the bundle and load from node_modules at run time.
  external: ['vscode', 'onnxruntime-node', '@rdkit/rdkit'],
});
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);

if (existsSync('webview/main.ts')) {
  await build({ ...common, entryPoints: { webview: 'webview/main.ts' }, outdir: 'dist', platform: 'browser', format: 'iife', target: 'es2022' });
}
