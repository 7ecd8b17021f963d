// The `--model` argument every model-using command shares: a GGUF file, a Hugging Face folder,
// a repo id or a URL; without it, $TAGLLM_MODEL, else the default model (downloaded once into
// the cache, with progress on stderr).
import type { ParsedArgs } from './command';
import { stringOption } from './command';
import type { LoadedModel } from '../runtime/model/description';
import { loadModel, type LoadProgress } from '../runtime/model/load';
import { defaultModelSpec } from '../runtime/model/sources/spec';

export function modelSpecOf(args: ParsedArgs): string {
  return stringOption(args, 'model') ?? defaultModelSpec();
}

export function loadModelOf(args: ParsedArgs, signal: AbortSignal): Promise<LoadedModel> {
  return loadModel(modelSpecOf(args), { signal, onProgress: reportDownload });
}

export function reportDownload(progress: LoadProgress): void {
  if (progress.phase !== 'download') return;
  const of = progress.bytesTotal === undefined ? '' : ` of ${(progress.bytesTotal / 1e6).toFixed(1)} MB`;
  process.stderr.write(`\rdownloading ${progress.file}: ${(progress.bytesDone / 1e6).toFixed(1)} MB${of}`);
  if (progress.bytesDone === progress.bytesTotal) process.stderr.write('\n');
}
