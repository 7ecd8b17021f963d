// Predictions of every function tag in the loaded bundles, on the configured model and device.
import * as path from 'node:path';
import type { CancellationToken } from 'vscode-jsonrpc';
import { UnsupportedError } from '../../runtime/errors';
import type { EntityRef, Predictions, RuntimeConfig, RuntimeInfo } from '../protocol';

export class PredictionEngine {
  private config: RuntimeConfig | null = null;

  constructor(
    private readonly log: (line: string) => void,
    private readonly onInfo: (info: RuntimeInfo) => void,
  ) {}

  async configure(config: RuntimeConfig): Promise<RuntimeInfo> {
    this.config = config;
    const info = { model: config.modelPath ? path.basename(config.modelPath) : null, device: config.device, tags: [] };
    this.onInfo(info);
    return info;
  }

  async predict(_ref: EntityRef, _token: CancellationToken): Promise<Predictions> {
    const config = this.config;
    const model = config?.modelPath ? path.basename(config.modelPath) : 'no model';
    if (config && config.bundlePaths.length > 0) throw new UnsupportedError('predictions from tag bundles are not wired yet', config.bundlePaths[0]);
    this.log(`predict: no bundles loaded`);
    return { predictions: [], model, device: config?.device ?? 'cpu' };
  }
}
