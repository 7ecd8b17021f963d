// What the runtime process does for the extension, behind the JSON-RPC handlers of runtimeServer.ts:
// scanning, entity cards, predictions, training and evaluation. Caches live here, sized by the settings.
import type { CancellationToken } from 'vscode-jsonrpc';
import { scanDocument } from '../../recognize/scan';
import type {
  EntityCard,
  EntityRef,
  EvaluateParams,
  EvaluateResult,
  Predictions,
  RuntimeConfig,
  RuntimeInfo,
  ScanParams,
  ScannedEntity,
  ExportJobParams,
  ExportJobResult,
  TrainDomainParams,
  TrainFunctionParams,
  TrainProgress,
  TrainResult,
} from '../protocol';
import { LruCache } from '../lruCache';
import { gpuReport, gpuReportText, type GpuReport } from '../../runtime/session/gpuReport';
import { describeEntity } from './cards';
import { PredictionEngine } from './predictionEngine';
import { dataColumns, evaluateTag, exportJob, trainDomainTag, trainFunctionTag } from './training';

const keyOf = (ref: EntityRef) => `${ref.kind}\u0000${ref.text}`;

export class RuntimeService {
  private config: RuntimeConfig = { modelPath: null, bundlePaths: [], device: 'auto', cacheSize: 2000 };
  private readonly cards = new LruCache<string, Promise<EntityCard>>(this.config.cacheSize);
  private readonly engine: PredictionEngine;

  constructor(
    private readonly log: (line: string) => void,
    onInfo: (info: RuntimeInfo) => void,
  ) {
    this.engine = new PredictionEngine(log, onInfo);
  }

  async configure(config: RuntimeConfig): Promise<RuntimeInfo> {
    this.config = config;
    this.cards.resize(config.cacheSize);
    this.log(`configured: model ${config.modelPath ?? '(none)'}, ${config.bundlePaths.length} bundle(s), device ${config.device}`);
    return this.engine.configure(config);
  }

  scan(params: ScanParams): ScannedEntity[] | Promise<ScannedEntity[]> {
    return scanDocument(params.text, params.fileName, params.languageId);
  }

  describe(ref: EntityRef): Promise<EntityCard> {
    const key = keyOf(ref);
    let card = this.cards.get(key);
    if (!card) {
      card = describeEntity(ref);
      this.cards.set(key, card);
      card.catch(() => this.cards.delete(key));
    }
    return card;
  }

  dataColumns(dataPath: string): string[] {
    return dataColumns(dataPath);
  }

  async checkGpu(): Promise<{ report: GpuReport; text: string }> {
    const report = await gpuReport();
    this.log(`GPU check: ${report.probes.map((p) => `${p.provider} ${p.ok ? `${p.matmulMs} ms` : 'did not run'}`).join(', ')}`);
    return { report, text: gpuReportText(report) };
  }

  predict(ref: EntityRef): Promise<Predictions> {
    return this.engine.predict(ref);
  }

  async trainFunctionTag(params: TrainFunctionParams, token: CancellationToken, progress: (p: TrainProgress) => void): Promise<TrainResult> {
    const result = await trainFunctionTag(this.config, params, { signal: abortSignalOf(token), progress, log: this.log });
    this.log(`trained ${result.tag} -> ${result.bundlePath}`);
    // The bundle may have replaced one already loaded from the same folder.
    this.engine.reset();
    return result;
  }

  async trainDomainTag(params: TrainDomainParams, token: CancellationToken, progress: (p: TrainProgress) => void): Promise<TrainResult> {
    const result = await trainDomainTag(this.config, params, { signal: abortSignalOf(token), progress, log: this.log });
    this.engine.reset();
    return result;
  }

  async exportJob(params: ExportJobParams): Promise<ExportJobResult> {
    const result = await exportJob(this.config, params);
    this.log(`exported a training job of ${params.tagName} -> ${result.jobDir}`);
    return result;
  }

  evaluate(params: EvaluateParams, token: CancellationToken): Promise<EvaluateResult> {
    return evaluateTag(this.config, params, abortSignalOf(token));
  }
}

/** The runtime's long work takes an AbortSignal; JSON-RPC hands us a cancellation token. */
function abortSignalOf(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}
