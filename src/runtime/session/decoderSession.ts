// Running the decoder graph: one compiled onnxruntime session per model and shape class
// (which logits, with or without a KV cache), created on first use and reused after.
import * as ort from 'onnxruntime-node';
import type { F32Tensor, LoadedModel } from '../model/description';
import { ShapeMismatchError } from '../errors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '../graph/graph';
import { initializerBytes, PROTOBUF_LIMIT, serializeModel, writeModelWithExternalData } from '../graph/serialize';
import {
  buildDecoderGraph,
  pastKeyName,
  pastValueName,
  presentKeyName,
  presentValueName,
  type DecoderGraphOptions,
} from '../llama/decoderGraph';
import { createOrtSession, defaultProviderPreference, type OrtSession, type OrtSessionExtra, type Provider, type ProviderPreference } from './ortSession';

export interface DecoderOutputs {
  /** [batch, seq, hidden], after the final norm. */
  readonly hidden: F32Tensor;
  /** [batch, seq, vocab] ('all') or [batch, 1, vocab] ('last'); absent for 'none'. */
  readonly logits?: F32Tensor;
}

/** Keys and values of every layer, each [batch, kvHeads, length, headDim], as onnxruntime returned them. */
export interface KvCache {
  readonly length: number;
  readonly keys: readonly ort.Tensor[];
  readonly values: readonly ort.Tensor[];
}

export interface DecoderStepOutputs extends DecoderOutputs {
  readonly present: KvCache;
}

export type DecoderSessionOptions = DecoderGraphOptions & { readonly provider?: ProviderPreference };

export class DecoderSession {
  private constructor(
    readonly model: LoadedModel,
    readonly options: DecoderGraphOptions,
    private readonly session: ort.InferenceSession,
    /** The execution provider that runs this session. */
    readonly provider: Provider,
    /** Why CUDA is not used, when it was asked for. */
    readonly fallbackReason: string | undefined,
  ) {}

  static async create(model: LoadedModel, options: DecoderSessionOptions): Promise<DecoderSession> {
    const { graph } = buildDecoderGraph(model.config, model.weights, options);
    // Generation feeds each step's keys and values straight back in: on a GPU provider they stay
    // in GPU buffers between steps. Sessions whose callers read the cache (training) keep it on the CPU.
    const presentOnDevice = options.kvCache && options.logits !== 'none';
    const locations = presentOnDevice ? Object.fromEntries(presentNames(model.config.numLayers).map((n) => [n, 'gpu-buffer' as const])) : undefined;
    const ortSession = await createSessionForGraph(graph, options.provider ?? defaultProviderPreference(), locations && { preferredOutputLocation: locations });
    return new DecoderSession(model, { logits: options.logits, kvCache: options.kvCache }, ortSession.session, ortSession.provider, ortSession.fallbackReason);
  }

  /** The whole sequence at once (no past). `attentionMask` is [batch, seq], 1 = token, 0 = padding. */
  async forward(inputsEmbeds: Float32Array, shape: readonly [batch: number, seq: number], attentionMask: BigInt64Array): Promise<DecoderOutputs> {
    const { hidden, logits } = await this.step(inputsEmbeds, shape, attentionMask, this.options.kvCache ? this.emptyCache(shape[0]) : undefined);
    return logits ? { hidden, logits } : { hidden };
  }

  /**
   * `seq` new positions after `past` (a KV-cache session). `attentionMask` covers past and new
   * positions: [batch, past.length + seq].
   */
  async step(inputsEmbeds: Float32Array, shape: readonly [batch: number, seq: number], attentionMask: BigInt64Array, past?: KvCache): Promise<DecoderStepOutputs> {
    const [batch, seq] = shape;
    const { hiddenSize, numLayers } = this.model.config;
    const pastLength = past?.length ?? 0;
    if (inputsEmbeds.length !== batch * seq * hiddenSize) throw new ShapeMismatchError(`inputs_embeds has ${inputsEmbeds.length} values, [${batch}, ${seq}, ${hiddenSize}] needs ${batch * seq * hiddenSize}`);
    if (attentionMask.length !== batch * (pastLength + seq)) throw new ShapeMismatchError(`attention_mask has ${attentionMask.length} values, [${batch}, ${pastLength + seq}] needs ${batch * (pastLength + seq)}`);
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', inputsEmbeds, [batch, seq, hiddenSize]),
      attention_mask: new ort.Tensor('int64', attentionMask, [batch, pastLength + seq]),
    };
    if (this.options.kvCache) {
      const cache = past ?? this.emptyCache(batch);
      for (let i = 0; i < numLayers; i++) {
        feeds[pastKeyName(i)] = cache.keys[i];
        feeds[pastValueName(i)] = cache.values[i];
      }
    }
    const out = await this.session.run(feeds);
    const hidden = toF32(out.hidden);
    const logits = out.logits ? toF32(out.logits) : undefined;
    const present: KvCache = this.options.kvCache
      ? {
          length: pastLength + seq,
          keys: Array.from({ length: numLayers }, (_, i) => out[presentKeyName(i)]),
          values: Array.from({ length: numLayers }, (_, i) => out[presentValueName(i)]),
        }
      : { length: 0, keys: [], values: [] };
    return logits ? { hidden, logits, present } : { hidden, present };
  }

  private emptyCache(batch: number): KvCache {
    const { numLayers, numKvHeads, headDim } = this.model.config;
    const empty = () => new ort.Tensor('float32', new Float32Array(0), [batch, numKvHeads, 0, headDim]);
    return { length: 0, keys: Array.from({ length: numLayers }, empty), values: Array.from({ length: numLayers }, empty) };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function presentNames(numLayers: number): string[] {
  return Array.from({ length: numLayers }, (_, i) => [presentKeyName(i), presentValueName(i)]).flat();
}

/** Frees a cache that no later step will read: GPU buffers are not garbage-collected. */
export function releaseKvCache(cache: KvCache): void {
  for (const t of [...cache.keys, ...cache.values]) if (t.location === 'gpu-buffer') t.dispose();
}

/** Room left in a ModelProto for the graph structure beside the weights. */
const STRUCTURE_MARGIN = 64 * 2 ** 20;

/**
 * In memory when the weights fit one ModelProto; otherwise through a temporary model file
 * with external data, removed once onnxruntime has loaded it.
 */
export async function createSessionForGraph(graph: Graph, preference: ProviderPreference, extra?: OrtSessionExtra): Promise<OrtSession> {
  if (initializerBytes(graph) < PROTOBUF_LIMIT - STRUCTURE_MARGIN) return createOrtSession(serializeModel(graph), preference, extra);
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-graph-'));
  try {
    const modelPath = join(dir, 'model.onnx');
    writeModelWithExternalData(graph, modelPath);
    return await createOrtSession(modelPath, preference, extra);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function toF32(t: ort.Tensor): F32Tensor {
  return { shape: t.dims.map(Number), data: t.data as Float32Array };
}

const sessionCache = new WeakMap<LoadedModel, Map<string, Promise<DecoderSession>>>();

/** The cached session for this model and shape class, compiled on first use. */
export function decoderSession(model: LoadedModel, options: DecoderSessionOptions): Promise<DecoderSession> {
  let byClass = sessionCache.get(model);
  if (!byClass) sessionCache.set(model, (byClass = new Map()));
  const key = `${options.logits}/${options.kvCache}/${options.provider ?? defaultProviderPreference()}`;
  let session = byClass.get(key);
  if (!session) {
    session = DecoderSession.create(model, options);
    byClass.set(key, session);
    session.catch(() => byClass.delete(key));
  }
  return session;
}
