// Creating onnxruntime-node sessions: the execution provider is chosen at run time (CUDA when
// this onnxruntime build offers it, else CPU), a failed CUDA start falls back to CPU with the
// reason kept for the caller to show, and the provider that actually runs is reported.
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors';

export type Provider = 'cuda' | 'cpu';
/** 'auto' tries CUDA first; TAGLLM_DEVICE (auto|cuda|cpu) overrides the default. */
export type ProviderPreference = Provider | 'auto';

export interface OrtSession {
  readonly session: ort.InferenceSession;
  readonly provider: Provider;
  /** Why CUDA was not used, when it was asked for (auto or cuda) and did not start. */
  readonly fallbackReason?: string;
}

export function defaultProviderPreference(): ProviderPreference {
  const env = process.env.TAGLLM_DEVICE;
  if (env === undefined || env === '') return 'auto';
  if (env === 'auto' || env === 'cuda' || env === 'cpu') return env;
  throw new UsageError(`TAGLLM_DEVICE must be auto, cuda or cpu, got "${env}"`);
}

function sessionOptions(provider: Provider): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // One thread per core; the runtime is the only heavy work in its process.
    intraOpNumThreads: availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}

/**
 * Whether this onnxruntime-node install can try CUDA: the backend is listed and its provider
 * library is on disk (the npm package leaves it out unless installed with CUDA; asking for it
 * anyway makes onnxruntime print a loader error).
 */
export function cudaAvailable(): boolean {
  if (!ort.listSupportedBackends().some((b) => b.name === 'cuda')) return false;
  const binding = dirname(require.resolve('onnxruntime-node'));
  const libDir = join(binding, '..', 'bin', 'napi-v6', process.platform, process.arch);
  return ['libonnxruntime_providers_cuda.so', 'onnxruntime_providers_cuda.dll'].some((f) => existsSync(join(libDir, f)));
}

/** Set once CUDA has failed to start in this process, so later sessions do not retry it. */
let cudaFailure: string | undefined;

/** `model` is the ModelProto bytes, or the path of a model file (with its external data beside it). */
export async function createOrtSession(model: Uint8Array | string, preference: ProviderPreference = defaultProviderPreference()): Promise<OrtSession> {
  let fallbackReason: string | undefined;
  if (preference !== 'cpu') {
    if (!cudaAvailable()) fallbackReason = 'onnxruntime-node is installed without its CUDA provider library (install it with CUDA to use a GPU)';
    else if (cudaFailure !== undefined) fallbackReason = cudaFailure;
    else {
      try {
        return { session: await openSession(model, 'cuda'), provider: 'cuda' };
      } catch (err) {
        fallbackReason = cudaFailure = `CUDA execution provider failed to start: ${firstLine(err)}`;
      }
    }
  }
  const session = await openSession(model, 'cpu');
  return fallbackReason === undefined ? { session, provider: 'cpu' } : { session, provider: 'cpu', fallbackReason };
}

function openSession(model: Uint8Array | string, provider: Provider): Promise<ort.InferenceSession> {
  return typeof model === 'string' ? ort.InferenceSession.create(model, sessionOptions(provider)) : ort.InferenceSession.create(model, sessionOptions(provider));
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
