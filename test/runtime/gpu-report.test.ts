// tagllm doctor's findings: the advice for machines without a usable GPU, the verbose-log
// reader behind the operator placements, and the report of this machine (whatever it has).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpuAdvice, gpuReport, type GpuReport } from '../../src/runtime/session/gpuReport';
import { parsePlacements, placementsOf } from '../../src/runtime/session/placements';
import { createOrtSession } from '../../src/runtime/session/ortSession';
import { Graph } from '../../src/runtime/graph/graph';
import { serializeModel } from '../../src/runtime/graph/serialize';

type Findings = Omit<GpuReport, 'advice'>;

const cpuOnly: Findings['probes'] = [
  { provider: 'cuda', ok: false, reason: 'not installed' },
  { provider: 'webgpu', ok: false, reason: 'Failed to get a WebGPU adapter: No supported adapters' },
  { provider: 'cpu', ok: true, matmulMs: 2, gflops: 130 },
];

const bareLinux: Findings = {
  platform: 'linux-x64',
  onnxruntimeVersion: '1.30.0',
  backends: [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }, { name: 'cuda', bundled: false }],
  devices: [],
  nvidiaGpus: [],
  vulkanLoader: null,
  vulkanDrivers: [],
  cudaProviderLibrary: false,
  cudaLibraries: { 'libcudart.so.12': null, 'libcublas.so.12': null, 'libcudnn.so.9': null },
  probes: cpuOnly,
};

test('no GPU device and no Vulkan loader: the advice names both, and what to install', () => {
  const advice = gpuAdvice(bareLinux);
  assert.ok(advice.some((a) => /no GPU device is visible/i.test(a)));
  assert.ok(advice.some((a) => /libvulkan1/.test(a) && /vulkan-loader/.test(a)));
  assert.ok(!advice.some((a) => /CUDA/.test(a)), 'no NVIDIA GPU, so no CUDA advice');
});

test('an NVIDIA GPU without the CUDA provider or CUDA 12 libraries: the advice names the install flag and the missing libraries', () => {
  const nvidia: Findings = {
    ...bareLinux,
    devices: ['/dev/nvidia0'],
    nvidiaGpus: ['NVIDIA H100 80GB HBM3, 580.65, 81559 MiB'],
    vulkanLoader: '/lib/x86_64-linux-gnu/libvulkan.so.1',
    vulkanDrivers: [{ manifest: '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', library: 'libvulkan_lvp.so' }],
    cudaLibraries: { 'libcudart.so.12': '/usr/local/cuda/lib64/libcudart.so.12', 'libcublas.so.12': null, 'libcudnn.so.9': null },
  };
  const advice = gpuAdvice(nvidia);
  assert.ok(advice.some((a) => /ONNXRUNTIME_NODE_INSTALL=cuda12/.test(a)));
  assert.ok(advice.some((a) => /libcublas\.so\.12, libcudnn\.so\.9/.test(a)));
  assert.ok(advice.some((a) => /hardware Vulkan driver/.test(a)), 'only the software Vulkan driver is installed');
});

test('WebGPU on a software adapter is not a GPU; a GPU provider that runs needs no advice', () => {
  const software: Findings = { ...bareLinux, vulkanLoader: '/lib/libvulkan.so.1', probes: [cpuOnly[0], { provider: 'webgpu', ok: true, matmulMs: 130, gflops: 2 }, cpuOnly[2]] };
  assert.ok(gpuAdvice(software).some((a) => /software Vulkan adapter/.test(a)));
  const hardware: Findings = { ...software, devices: ['/dev/dri/renderD128'] };
  assert.deepEqual(gpuAdvice(hardware), []);
});

test('placements are read from onnxruntime verbose log blocks', () => {
  const log = [
    '2026-12-02 18:31:14.39 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
    '2026-12-02 18:31:14.39 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 3',
    '2026-12-02 18:31:14.39 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   CumSum (CumSum_1)',
    '2026-12-02 18:31:14.39 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Range (Range_17)',
    '2026-12-02 18:31:14.39 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Range (Range_18)',
    '2026-12-02 18:31:14.39 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 1',
    '2026-12-02 18:31:14.39 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MatMul (MatMul_9)',
    '2026-12-02 18:31:14.40 [V:onnxruntime:, graph.cc:100 Resolve] Range (Range_99)',
  ].join('\n');
  const placements = parsePlacements(log);
  assert.deepEqual([...placements.keys()], ['CPUExecutionProvider', 'WebGpuExecutionProvider']);
  assert.deepEqual(placements.get('CPUExecutionProvider')!.nodes, 3);
  assert.deepEqual(Object.fromEntries(placements.get('CPUExecutionProvider')!.ops), { CumSum: 1, Range: 2 });
  assert.deepEqual(Object.fromEntries(placements.get('WebGpuExecutionProvider')!.ops), { MatMul: 1 });
  const single = parsePlacements('2026-12-02 18:35:40.19 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 2');
  assert.equal(single.get('WebGpuExecutionProvider')!.nodes, 2);
  assert.equal(single.get('WebGpuExecutionProvider')!.ops.size, 0);
});

test('placementsOf lists a WebGPU session\'s nodes by provider', async (t) => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 2]);
  g.output(g.neg(g.matMul(x, g.initializer('w', 'float32', [2, 2], Float32Array.of(1, 2, 3, 4)))), 'y');
  const model = serializeModel(g);
  const probe = await createOrtSession(model, 'webgpu');
  if (probe.provider !== 'webgpu') return t.skip(`WebGPU unavailable: ${probe.fallbackReason}`);
  const placements = await placementsOf(model, 'webgpu');
  assert.deepEqual([...placements.keys()], ['WebGpuExecutionProvider']);
  assert.equal(placements.get('WebGpuExecutionProvider')!.nodes, 2);
});

test('the report of this machine: the CPU probe runs, every provider is probed, and advice exists exactly when no GPU provider runs', async () => {
  const report = await gpuReport();
  assert.deepEqual(report.probes.map((p) => p.provider), ['cuda', 'webgpu', 'cpu']);
  const cpu = report.probes.find((p) => p.provider === 'cpu')!;
  assert.ok(cpu.ok && cpu.matmulMs! > 0 && cpu.gflops! > 0);
  for (const p of report.probes) assert.ok(p.ok || (p.reason ?? '').length > 0, `${p.provider} did not run and says why`);
  assert.deepEqual(report.advice, gpuAdvice(report));
});
