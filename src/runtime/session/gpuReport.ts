// What this machine offers onnxruntime for a GPU, and why a GPU is not used when it is not:
// the devices the kernel exposes, the Vulkan loader and drivers WebGPU needs on Linux, the CUDA
// provider library and the CUDA 12 / cuDNN 9 libraries it loads, and a small timed MatMul on
// every provider. `tagllm doctor` and the editor's Check GPU command print it; the advice is a
// pure function of the findings so it can be tested without a GPU.
import * as ort from 'onnxruntime-node';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../graph/graph';
import { serializeModel } from '../graph/serialize';
import { createOrtSession, cudaAvailable, PROVIDERS, type Provider } from './ortSession';

export interface ProviderProbe {
  readonly provider: Provider;
  /** Whether a session on this provider started and ran. */
  readonly ok: boolean;
  /** Median milliseconds of one [n, n] x [n, n] float32 MatMul, when it ran. */
  readonly matmulMs?: number;
  readonly gflops?: number;
  /** Why it did not run. */
  readonly reason?: string;
}

/** A WebGPU adapter with no GPU device behind it is a software rasterizer (Mesa's llvmpipe), slower than the CPU provider. */
export function softwareWebgpu(r: Pick<GpuReport, 'platform' | 'devices'>): boolean {
  return r.platform.startsWith('linux') && r.devices.length === 0;
}

export interface VulkanDriver {
  /** The ICD manifest file. */
  readonly manifest: string;
  /** The driver library it names. */
  readonly library: string;
  readonly apiVersion?: string;
}

export interface GpuReport {
  readonly platform: string;
  readonly onnxruntimeVersion: string;
  readonly backends: ReadonlyArray<{ name: string; bundled: boolean }>;
  /** Linux: DRM render nodes (/dev/dri/renderD*) and NVIDIA device files. */
  readonly devices: readonly string[];
  /** `nvidia-smi`'s GPU name and driver version, one line per GPU, when the tool is present. */
  readonly nvidiaGpus: readonly string[];
  /** The Vulkan loader library found (Linux), or null. */
  readonly vulkanLoader: string | null;
  readonly vulkanDrivers: readonly VulkanDriver[];
  readonly cudaProviderLibrary: boolean;
  /** CUDA 12 runtime, cuBLAS and cuDNN 9 libraries found on the loader path. */
  readonly cudaLibraries: Readonly<Record<string, string | null>>;
  readonly probes: readonly ProviderProbe[];
  /** What to do so that a GPU is used, one sentence each; empty when a GPU provider runs. */
  readonly advice: readonly string[];
}

const MATMUL_SIZE = 512;
const MATMUL_RUNS = 5;

export async function gpuReport(): Promise<GpuReport> {
  const platform = `${process.platform}-${process.arch}`;
  const findings = {
    platform,
    onnxruntimeVersion: ort.env.versions.common,
    backends: ort.listSupportedBackends().map(({ name, bundled }) => ({ name, bundled })),
    devices: gpuDeviceFiles(),
    nvidiaGpus: nvidiaSmi(),
    vulkanLoader: process.platform === 'linux' ? findLibrary(['libvulkan.so.1', 'libvulkan.so']) : null,
    vulkanDrivers: process.platform === 'linux' ? vulkanDrivers() : [],
    cudaProviderLibrary: cudaAvailable(),
    cudaLibraries: Object.fromEntries(CUDA_LIBRARIES.map((lib) => [lib, findLibrary([lib])])),
  };
  const probes: ProviderProbe[] = [];
  for (const provider of PROVIDERS) probes.push(await probeProvider(provider));
  return { ...findings, probes, advice: gpuAdvice({ ...findings, probes }) };
}

/** The libraries onnxruntime's CUDA provider loads (onnxruntime 1.2x is built against CUDA 12 and cuDNN 9). */
const CUDA_LIBRARIES = ['libcudart.so.12', 'libcublas.so.12', 'libcudnn.so.9'] as const;

/** Sentences that say why no GPU provider ran and what to install; empty when one ran. */
export function gpuAdvice(r: Omit<GpuReport, 'advice'>): string[] {
  const gpuRan = r.probes.some((p) => p.ok && (p.provider === 'cuda' || (p.provider === 'webgpu' && !softwareWebgpu(r))));
  if (gpuRan) return [];
  const advice: string[] = [];
  const linux = r.platform.startsWith('linux');
  if (linux && r.devices.length === 0) {
    advice.push('No GPU device is visible to this process (no /dev/dri/renderD* or /dev/nvidia*): in a container, pass the GPU through (docker --gpus all, or --device /dev/dri); on a remote machine, run VS Code Remote on the GPU host.');
  }
  const webgpu = r.probes.find((p) => p.provider === 'webgpu');
  if (!r.backends.some((b) => b.name === 'webgpu' && b.bundled)) {
    advice.push(`This onnxruntime-node build (${r.platform}) has no WebGPU provider.`);
  } else if (linux && r.vulkanLoader === null) {
    advice.push('WebGPU needs the Vulkan loader: install libvulkan1 (Debian/Ubuntu), vulkan-loader (Fedora/RHEL, Arch), plus your GPU\'s Vulkan driver (NVIDIA: the proprietary driver\'s Vulkan ICD; AMD/Intel: mesa-vulkan-drivers).');
  } else if (linux && !r.vulkanDrivers.some((d) => !isSoftwareDriver(d))) {
    advice.push('No hardware Vulkan driver is installed (only software ones, or none): install the GPU vendor\'s Vulkan driver (NVIDIA: the driver\'s nvidia_icd.json comes with libnvidia-gl; AMD/Intel: mesa-vulkan-drivers).');
  } else if (webgpu && !webgpu.ok) {
    advice.push(`WebGPU did not start: ${webgpu.reason ?? 'unknown reason'}.`);
  }
  if (webgpu?.ok && softwareWebgpu(r)) {
    advice.push('WebGPU ran on a software Vulkan adapter (no GPU device is visible), which is slower than the CPU provider; the device setting auto keeps the CPU.');
  }
  if (r.nvidiaGpus.length > 0 || r.devices.some((d) => d.startsWith('/dev/nvidia'))) {
    if (!r.cudaProviderLibrary) {
      advice.push('For CUDA on this NVIDIA GPU: reinstall onnxruntime-node with its CUDA provider (ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node, see docs/extension.md, "Using a GPU").');
    }
    const missing = Object.entries(r.cudaLibraries).filter(([, at]) => at === null).map(([lib]) => lib);
    if (missing.length > 0) advice.push(`onnxruntime's CUDA provider loads CUDA 12 and cuDNN 9; not found: ${missing.join(', ')} (install the CUDA 12 runtime and cuDNN 9, or add their folder to LD_LIBRARY_PATH).`);
  }
  return advice;
}

export function isSoftwareDriver(d: VulkanDriver): boolean {
  return /lvp|llvmpipe|swiftshader/i.test(`${d.manifest} ${d.library}`);
}

/** The report as aligned text, for the terminal and the editor's Check GPU document. */
export function gpuReportText(r: GpuReport): string {
  const found = (x: string | null) => x ?? 'not found';
  const lines = [
    `platform            ${r.platform}, onnxruntime ${r.onnxruntimeVersion}`,
    `providers built in  ${r.backends.map((b) => `${b.name}${b.bundled ? '' : ' (separate library)'}`).join(', ')}`,
    `GPU devices         ${r.devices.length > 0 ? r.devices.join(', ') : 'none visible'}`,
    ...(r.nvidiaGpus.length > 0 ? [`NVIDIA GPUs         ${r.nvidiaGpus.join('; ')}`] : []),
    `Vulkan loader       ${found(r.vulkanLoader)}`,
    `Vulkan drivers      ${r.vulkanDrivers.length > 0 ? r.vulkanDrivers.map((d) => `${d.library}${d.apiVersion ? ` (Vulkan ${d.apiVersion})` : ''}`).join(', ') : 'none'}`,
    `CUDA provider       ${r.cudaProviderLibrary ? 'installed' : 'not installed'}`,
    `CUDA libraries      ${Object.entries(r.cudaLibraries).map(([lib, at]) => `${lib} ${at ? 'found' : 'missing'}`).join(', ')}`,
    '',
    'Timed 512x512 MatMul:',
    ...r.probes.map((p) => {
      if (!p.ok) return `  ${p.provider.padEnd(7)} did not run: ${p.reason}`;
      const software = p.provider === 'webgpu' && softwareWebgpu(r) ? ' (software adapter)' : '';
      return `  ${p.provider.padEnd(7)} ${p.matmulMs} ms, ${p.gflops} GFLOP/s${software}`;
    }),
    '',
    ...(r.advice.length === 0 ? ['A GPU provider runs here.'] : ['No GPU provider runs here:', ...r.advice.map((a) => `  - ${a}`)]),
  ];
  return lines.join('\n') + '\n';
}

async function probeProvider(provider: Provider): Promise<ProviderProbe> {
  try {
    const { session, provider: ran, fallbackReason } = await createOrtSession(matmulModel(MATMUL_SIZE), provider);
    if (ran !== provider) {
      await session.release();
      return { provider, ok: false, reason: fallbackReason ?? `${provider} did not start` };
    }
    const n = MATMUL_SIZE;
    const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 13) / 13 - 0.5), [n, n]);
    await session.run({ a });
    const times: number[] = [];
    for (let i = 0; i < MATMUL_RUNS; i++) {
      const start = performance.now();
      await session.run({ a });
      times.push(performance.now() - start);
    }
    await session.release();
    const ms = times.sort((x, y) => x - y)[Math.floor(times.length / 2)];
    return { provider, ok: true, matmulMs: Math.round(ms * 1000) / 1000, gflops: Math.round((2 * n ** 3) / (ms * 1e6)) };
  } catch (err) {
    return { provider, ok: false, reason: String((err as Error).message ?? err).split('\n')[0] };
  }
}

/** a [n, n] times a constant [n, n] weight: enough work to show a GPU's advantage, small enough for a second. */
function matmulModel(n: number): Uint8Array {
  const g = new Graph('matmul_probe');
  const weight = g.initializer('w', 'float32', [n, n], Float32Array.from({ length: n * n }, (_, i) => ((i * 104729) % 17) / 17 - 0.5));
  g.output(g.matMul(g.input('a', 'float32', [n, n]), weight), 'y');
  return serializeModel(g);
}

function gpuDeviceFiles(): string[] {
  if (process.platform !== 'linux') return [];
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri').filter((f) => f.startsWith('renderD')).map((f) => `/dev/dri/${f}`) : [];
  const nvidia = existsSync('/dev') ? readdirSync('/dev').filter((f) => /^nvidia\d+$/.test(f)).map((f) => `/dev/${f}`) : [];
  return [...dri, ...nvidia];
}

function nvidiaSmi(): string[] {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').map((l) => l.trim()).filter(Boolean);
  } catch {
    return [];
  }
}

/** The first of `names` in the dynamic loader's cache or a usual library folder. */
function findLibrary(names: readonly string[]): string | null {
  const cache = ldconfigCache();
  for (const name of names) {
    const hit = cache.get(name);
    if (hit) return hit;
  }
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/usr/local/cuda/lib64', '/usr/local/nvidia/lib64'];
  for (const name of names) for (const dir of dirs) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

let ldconfigEntries: Map<string, string> | undefined;

function ldconfigCache(): Map<string, string> {
  if (ldconfigEntries) return ldconfigEntries;
  ldconfigEntries = new Map();
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const out = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
      for (const m of out.matchAll(/^\s*(\S+) \(([^)]*)\) => (\S+)$/gm)) if (m[2].includes('x86-64') || !m[2].includes('64')) ldconfigEntries.set(m[1], m[3]);
      break;
    } catch {
      // try the next location
    }
  }
  return ldconfigEntries;
}

/** Vulkan ICD manifests, where the loader looks for them (or where VK_DRIVER_FILES / VK_ICD_FILENAMES point). */
function vulkanDrivers(): VulkanDriver[] {
  const named = (process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean);
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const manifests = named.length > 0 ? named : dirs.filter(existsSync).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)));
  return manifests.flatMap((manifest) => {
    try {
      const icd = (JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: unknown; api_version?: unknown } }).ICD;
      if (typeof icd?.library_path !== 'string') return [];
      return [{ manifest, library: icd.library_path, ...(typeof icd.api_version === 'string' && { apiVersion: icd.api_version }) }];
    } catch {
      return [];
    }
  });
}
