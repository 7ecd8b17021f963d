// Runs every unit test (test/**/*.test.ts) with node's test runner through tsx, then the
// PyTorch companion's pytest suite (python/tests), then the end-to-end suite (test/e2e/run.mjs)
// when it exists. Extra arguments filter test files by substring (`python` runs the pytest suite).
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const filters = process.argv.slice(2);
// Tests and benchmarks read the shared offline data through this variable; default to the copy beside the repo.
process.env.TAGLLM_DATA_DIR ??= join(process.cwd(), '..', 'shared', 'data');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'e2e' || name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})('test');
files.sort();

// The Python-side checks (transformers parity, the PyTorch companion) run in the project's .venv.
const python = spawnSync('bash', ['scripts/setup-python.sh'], { stdio: 'inherit' });
if (python.status !== 0) process.exit(python.status ?? 1);
process.env.TAGLLM_PYTHON ??= join(process.cwd(), '.venv', 'bin', 'python');
// The WebGPU provider's tests need a Vulkan driver: a GPU's, or Mesa's software one. Without it they say they were skipped.
const vulkan = spawnSync('bash', ['scripts/setup-vulkan.sh'], { stdio: 'inherit' });
if (vulkan.status !== 0) console.warn('setup-vulkan.sh failed: the WebGPU tests will be skipped');

if (files.length > 0) {
  const unit = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
  if (unit.status !== 0) process.exit(unit.status ?? 1);
}

// The PyTorch companion's tests (python/tests), on the whole run or when a filter names python/.
// pytest exits 5 when it collects nothing: that is a failure here, never a pass.
if (filters.length === 0 || filters.some((f) => f.startsWith('python'))) {
  const pytest = spawnSync(process.env.TAGLLM_PYTHON, ['-m', 'pytest', 'python/tests', '-q'], { stdio: 'inherit' });
  if (pytest.status === 5) console.error('pytest collected no tests in python/tests');
  if (pytest.status !== 0) process.exit(pytest.status === 5 ? 1 : (pytest.status ?? 1));
}

if (filters.length === 0 && existsSync('test/e2e/run.mjs') && process.env.TAGLLM_SKIP_E2E !== '1') {
  const e2e = spawnSync(process.execPath, ['test/e2e/run.mjs'], { stdio: 'inherit' });
  process.exit(e2e.status ?? 1);
}
