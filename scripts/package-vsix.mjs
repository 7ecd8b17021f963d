// `npm run package`: a linux-x64 .vsix of the extension (after `npm run build`), made with @vscode/vsce from
// the git-ignored .e2e/tools folder (installed there on first use, so vsce and its ~140 MB of dependencies
// stay out of package.json). Prints the file and its size.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const tools = join('.e2e', 'tools');
const vsce = join(tools, 'node_modules', '.bin', 'vsce');
if (!existsSync(vsce)) {
  const install = spawnSync('npm', ['install', '--prefix', tools, '--no-fund', '--no-audit', '@vscode/vsce@3.9.2'], { stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
const { name, version } = JSON.parse(readFileSync('package.json', 'utf8'));
const out = `${name}-${version}-linux-x64.vsix`;
// .vscodeignore keeps, of the production dependencies, only the runtime files the bundles do not contain. There is no
// repository URL to rewrite README links against, so they stay relative.
const r = spawnSync(vsce, ['package', '--target', 'linux-x64', '--allow-missing-repository', '--no-rewrite-relative-links', '--skip-license', '--out', out], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`${out}: ${(statSync(out).size / 1e6).toFixed(1)} MB`);
