// The JSON-RPC contract between the extension host (client) and the runtime process (server).
// Both sides import these types; nothing here may import `vscode` or load the runtime.
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { Entity, EntityKind } from '../recognize/types';
import type { ProviderPreference } from '../runtime/session/ortSession';
import type { GpuReport } from '../runtime/session/gpuReport';

export type { EntityKind };

/** What the runtime needs to describe or predict one entity: its kind and its exact text. */
export interface EntityRef {
  kind: EntityKind;
  text: string;
}

/** A recognized entity, positioned with VS Code semantics (0-based line, UTF-16 character, end exclusive). */
export type ScannedEntity = Entity;

export interface Descriptor {
  name: string;
  value: number;
  unit?: string;
}

/** Everything about an entity that needs no language model: a drawing and exact descriptors. */
export interface EntityCard {
  /** SVG markup of the 2-D structure (molecules only). */
  svg?: string;
  descriptors: Descriptor[];
  /** One-letter residue counts, most frequent first (proteins only). */
  composition?: Array<[string, number]>;
}

export interface TagPrediction {
  tag: string;
  /** A head's value (a probability for a classification tag); absent for a text-output function tag, which writes `text` instead. */
  value?: number;
  unit?: string;
  /** What a text-output function tag wrote for the entity. */
  text?: string;
  bundle: string;
  task?: 'regression' | 'classification';
  /** The tag's evidence as one line ("RMSE 1.13 · fingerprints 1.43 · mean 2.10 (ESOL, n = 113)"); absent for bundles before format 3. */
  evidence?: string;
  /** 0–100 among approved drugs. */
  percentile?: number;
  /** Nearest training input's similarity. */
  similarity?: number;
  /** 'outside-domain', 'outside-training-range', 'outside-bounds'. */
  flags?: string[];
}

export interface Predictions {
  predictions: TagPrediction[];
  model: string;
  device: string;
}

/** Which model, bundles and device the runtime should use; sent on start and whenever settings change. */
export interface RuntimeConfig {
  modelPath: string | null;
  bundlePaths: string[];
  device: ProviderPreference;
  cacheSize: number;
}

export interface RuntimeInfo {
  model: string | null;
  device: string;
  tags: string[];
}

export interface ScanParams {
  text: string;
  fileName: string;
  languageId: string;
}

export interface TrainFunctionParams {
  dataPath: string;
  inputColumns: string[];
  labelColumn: string;
  domainTags: string[];
  tagName: string;
  steps: number;
  outDir: string;
  /** 'text': the label column is text the tag learns to write (next-token loss), not a number. */
  output?: 'text';
  /** Continue from the checkpoint beside outDir (a run that was cancelled or whose process died). */
  resume?: boolean;
}

export interface TrainDomainParams {
  dataPath: string;
  inputColumn: string | null;
  tagName: string;
  steps: number;
  outDir: string;
  resume?: boolean;
}

/** Export Training Job: the Train Function Tag choices, written as a job folder for the PyTorch companion. */
export type ExportJobParams = TrainFunctionParams;

export interface ExportJobResult {
  jobDir: string;
  rows: number;
  steps: number;
}

export type Metrics = Record<string, number>;

export interface TrainResult {
  bundlePath: string;
  tag: string;
  nTrain: number;
  nTest: number;
  test: Metrics;
  baselines: Record<string, Metrics>;
  steps: number;
  /** 'steps', 'early-stopping' or 'cancelled' (a cancelled run still saves the state it reached). */
  stoppedBy: string;
  wallSeconds: number;
}

export interface EvaluateParams {
  bundlePath: string;
  tag: string;
  dataPath: string;
  inputColumns: string[];
  labelColumn: string;
}

export interface EvaluateResult {
  tag: string;
  dataFile: string;
  /** Rows left out because an input did not parse or the label was missing. */
  nSkipped: number;
  metrics: Metrics;
  /** [predicted, true] pairs of the evaluated rows, in original units. */
  points: Array<[number, number]>;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  validLoss?: number;
}

export const Configure = new RequestType<RuntimeConfig, RuntimeInfo, void>('tagllm/configure');
export const Scan = new RequestType<ScanParams, ScannedEntity[], void>('tagllm/scan');
export const Describe = new RequestType<EntityRef, EntityCard, void>('tagllm/describe');
export const Predict = new RequestType<EntityRef, Predictions, void>('tagllm/predict');
export const TrainFunctionTag = new RequestType<TrainFunctionParams, TrainResult, void>('tagllm/trainFunctionTag');
export const TrainDomainTag = new RequestType<TrainDomainParams, TrainResult, void>('tagllm/trainDomainTag');
export const ExportTrainingJob = new RequestType<ExportJobParams, ExportJobResult, void>('tagllm/exportTrainingJob');
export const DataColumns = new RequestType<{ dataPath: string }, string[], void>('tagllm/dataColumns');
export const Evaluate = new RequestType<EvaluateParams, EvaluateResult, void>('tagllm/evaluate');
/** `tagllm doctor` in the runtime process: what it found, and the same as text. */
export const CheckGpu = new RequestType<null, { report: GpuReport; text: string }, void>('tagllm/checkGpu');
export const TrainProgressNotification = new NotificationType<TrainProgress>('tagllm/trainProgress');
/** Sent by the runtime whenever what it has loaded changes (the device is only known once a model is loaded). */
export const InfoNotification = new NotificationType<RuntimeInfo>('tagllm/info');
