// `tagllm doctor` and `--device` through the built CLI (dist/cli.js, made by `npm run build`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { dataPath } from '../helpers/data';

const cli = resolve(__dirname, '../../dist/cli.js');

function tagllm(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, TAGLLM_DEVICE: '' } });
}

test('doctor --json probes every provider, and lists placements for the generation and training graphs', () => {
  const run = tagllm('doctor', '--json', '--placements', '--model', dataPath('models', 'stories260K.gguf'));
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(report.probes.map((p: { provider: string }) => p.provider), ['cuda', 'webgpu', 'cpu']);
  assert.ok(report.probes.find((p: { provider: string }) => p.provider === 'cpu').ok);
  const webgpu = report.probes.find((p: { provider: string }) => p.provider === 'webgpu');
  if (!webgpu.ok) {
    assert.deepEqual(report.placements, []);
    return;
  }
  const graphs = report.placements.filter((p: { provider: string }) => p.provider === 'webgpu');
  assert.equal(graphs.length, 3);
  for (const g of graphs) {
    const cpuOps = Object.keys(g.byExecutionProvider.CPUExecutionProvider?.ops ?? {});
    // What stays on the CPU is integer shape and position arithmetic, never a float op over logits.
    assert.ok(!cpuOps.includes('LogSoftmax') && !cpuOps.includes('MatMul') && !cpuOps.includes('Softmax'), `${g.graph}: ${cpuOps}`);
    assert.ok(g.byExecutionProvider.WebGpuExecutionProvider.ops.MatMul > 0);
  }
});

test('--device takes auto, cuda, webgpu or cpu and refuses anything else', () => {
  const bad = tagllm('generate', '--model', dataPath('models', 'stories260K.gguf'), '--prompt', 'Once', '--max-new-tokens', '2', '--device', 'tpu');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--device must be auto, cuda, webgpu, cpu; got "tpu"/);
  const cpu = tagllm('generate', '--model', dataPath('models', 'stories260K.gguf'), '--prompt', 'Once', '--max-new-tokens', '2', '--device', 'cpu');
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.doesNotMatch(cpu.stderr, /running on CPU/, 'asking for the CPU is no fallback');
});
