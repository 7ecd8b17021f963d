// Training and evaluation in the runtime process, on the training module's functions.
import { UnsupportedError } from '../../runtime/errors';
import type { EvaluateParams, EvaluateResult, RuntimeConfig, TrainDomainParams, TrainFunctionParams, TrainProgress, TrainResult } from '../protocol';

export async function trainFunctionTag(_config: RuntimeConfig, params: TrainFunctionParams, _signal: AbortSignal, _progress: (p: TrainProgress) => void): Promise<TrainResult> {
  throw new UnsupportedError('function-tag training is not wired yet', params.dataPath);
}

export async function trainDomainTag(_config: RuntimeConfig, params: TrainDomainParams, _signal: AbortSignal, _progress: (p: TrainProgress) => void): Promise<TrainResult> {
  throw new UnsupportedError('domain-tag training is not wired yet', params.dataPath);
}

export async function evaluateTag(_config: RuntimeConfig, params: EvaluateParams, _signal: AbortSignal): Promise<EvaluateResult> {
  throw new UnsupportedError('evaluation is not wired yet', params.dataPath);
}
