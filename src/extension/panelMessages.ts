// Messages between the predictions panel (extension side) and its webview script. Plain data only.
import type { Descriptor, EntityKind, EvaluateResult, TagPrediction, TrainProgress, TrainResult } from './protocol';

export interface EntityRow {
  id: string;
  kind: EntityKind;
  text: string;
  /** Where to reveal it: document URI and start position (for a notebook cell, the cell's URI). */
  uri: string;
  line: number;
  character: number;
  /** Shown as "file:line" or "cell N:line". */
  where: string;
  svg?: string;
  descriptors: Descriptor[];
  predictions: TagPrediction[];
  /** Why predictions are missing, when they are. */
  predictionError?: string;
}

export type ToWebview =
  | { type: 'entities'; source: string; rows: EntityRow[]; model: string; device: string }
  | { type: 'trainStart'; tag: string; totalSteps: number }
  | { type: 'trainProgress'; progress: TrainProgress }
  | { type: 'trainResult'; result: TrainResult }
  | { type: 'trainFailed'; message: string }
  | { type: 'evaluation'; result: EvaluateResult };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'reveal'; uri: string; line: number; character: number }
  | { type: 'exportCsv'; ids: string[] };
