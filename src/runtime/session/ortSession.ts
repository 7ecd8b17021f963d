// Creating onnxruntime-node sessions: the execution provider is chosen at run time, a provider
// that fails to start falls back to the next with the reason kept for the caller to show, and
// the provider that actually runs is reported.
//
// 'auto' tries CUDA (when onnxruntime-node was installed with its CUDA library), then WebGPU
// (bundled with onnxruntime-node; Dawn over Vulkan on Linux, D3D12 on Windows, Metal on macOS)
// when this machine shows a GPU, then the CPU. WebGPU is only tried by 'auto' where a GPU device
// is visible, because Vulkan also exposes software adapters (Mesa's llvmpipe) that run
// slower than onnxruntime's own CPU kernels; naming 'webgpu' always tries it.
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors';

export const PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;
export type Provider = (typeof PROVIDERS)[number];
/** 'auto' tries CUDA, then WebGPU, then the CPU; TAGLLM_DEVICE (auto|cuda|webgpu|cpu) overrides the default. */
export type ProviderPreference = Provider | 'auto';

export interface OrtSession {
  readonly session: ort.InferenceSession;
  readonly provider: Provider;
  /** Why a GPU provider was not used, when one was asked for (auto, cuda or webgpu) and did not start. */
  readonly fallbackReason?: string;
}

export function parseProviderPreference(value: string, source: string): ProviderPreference {
  if (value === 'auto' || (PROVIDERS as readonly string[]).includes(value)) return value as ProviderPreference;
  throw new UsageError(`${source} must be auto, ${PROVIDERS.join(', ')}; got "${value}"`);
}

export function defaultProviderPreference(): ProviderPreference {
  const env = process.env.TAGLLM_DEVICE;
  if (env === undefined || env === '') return 'auto';
  return parseProviderPreference(env, 'TAGLLM_DEVICE');
}

function sessionOptions(provider: Provider): ort.InferenceSession.SessionOptions {
  return {
    // onnxruntime places what a GPU provider has no kernel for on the CPU by itself.
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // One thread per core; the runtime is the only heavy work in its process.
    intraOpNumThreads: availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}

function onnxruntimeLibraryDir(): string {
  const binding = dirname(require.resolve('onnxruntime-node'));
  return join(binding, '..', 'bin', 'napi-v6', process.platform, process.arch);
}

export const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_cuda.so', 'onnxruntime_providers_cuda.dll'] as const;

/**
 * Whether this onnxruntime-node install can try CUDA: the backend is listed and its provider
 * library is on disk (the npm package leaves it out unless installed with CUDA; asking for it
 * anyway makes onnxruntime print a loader error).
 */
export function cudaAvailable(): boolean {
  if (!ort.listSupportedBackends().some((b) => b.name === 'cuda')) return false;
  return CUDA_PROVIDER_LIBRARIES.some((f) => existsSync(join(onnxruntimeLibraryDir(), f)));
}

/** Whether this onnxruntime-node build carries the WebGPU provider (linux-x64, win32, darwin builds since 1.22). */
export function webgpuBundled(): boolean {
  return ort.listSupportedBackends().some((b) => b.name === 'webgpu' && b.bundled);
}

/**
 * Whether a GPU device is visible to this process: on Linux a DRM render node or an NVIDIA
 * device file; macOS and Windows always have a GPU adapter for Metal or D3D12.
 */
export function gpuDeviceVisible(): boolean {
  if (process.platform !== 'linux') return true;
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri') : [];
  return dri.some((f) => f.startsWith('renderD')) || existsSync('/dev/nvidia0');
}

/** Set once a provider has failed to start in this process, so later sessions do not retry it. */
const failures = new Map<Exclude<Provider, 'cpu'>, string>();

/** The GPU providers to try for a preference, in order, each with the reason it is skipped outright (if it is). */
function gpuCandidates(preference: ProviderPreference): Array<{ provider: Exclude<Provider, 'cpu'>; skip?: string }> {
  const cuda = { provider: 'cuda' as const, skip: cudaAvailable() ? undefined : 'onnxruntime-node is installed without its CUDA provider library (see docs/extension.md, "Using a GPU")' };
  const webgpu = { provider: 'webgpu' as const, skip: webgpuBundled() ? undefined : `this onnxruntime-node build (${process.platform}-${process.arch}) has no WebGPU provider` };
  if (preference === 'cuda') return [cuda];
  if (preference === 'webgpu') return [webgpu];
  if (preference === 'cpu') return [];
  if (!webgpu.skip && !gpuDeviceVisible()) webgpu.skip = 'no GPU device is visible (no /dev/dri/renderD* or /dev/nvidia0); name the webgpu device to try it anyway';
  return [cuda, webgpu];
}

const PROVIDER_NAMES: Readonly<Record<Provider, string>> = { cuda: 'CUDA', webgpu: 'WebGPU', cpu: 'CPU' };

/** Session options that apply on GPU providers only (the CPU provider has nowhere else to put outputs). */
export type OrtSessionExtra = Pick<ort.InferenceSession.SessionOptions, 'preferredOutputLocation'>;

/** `model` is the ModelProto bytes, or the path of a model file (with its external data beside it). */
export async function createOrtSession(
  model: Uint8Array | string,
  preference: ProviderPreference = defaultProviderPreference(),
  extra: OrtSessionExtra = {},
): Promise<OrtSession> {
  const reasons: string[] = [];
  for (const { provider, skip } of gpuCandidates(preference)) {
    const failure = skip ?? failures.get(provider);
    if (failure !== undefined) {
      reasons.push(`${PROVIDER_NAMES[provider]}: ${failure}`);
      continue;
    }
    try {
      return { session: await openSession(model, provider, extra), provider };
    } catch (err) {
      const reason = `the ${PROVIDER_NAMES[provider]} execution provider failed to start: ${firstLine(err)}`;
      failures.set(provider, reason);
      reasons.push(`${PROVIDER_NAMES[provider]}: ${reason}`);
    }
  }
  const session = await openSession(model, 'cpu');
  return reasons.length === 0 ? { session, provider: 'cpu' } : { session, provider: 'cpu', fallbackReason: reasons.join('; ') };
}

function openSession(model: Uint8Array | string, provider: Provider, extra: OrtSessionExtra = {}): Promise<ort.InferenceSession> {
  const options = { ...sessionOptions(provider), ...(provider === 'cpu' ? {} : extra) };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
