// One LoadedModel per model path in the runtime process, so prediction and training share its weights
// and (through the runtime's per-model session caches) its compiled onnxruntime sessions.
import type { LoadedModel } from '../../runtime/model/description';
import { loadModel } from '../../runtime/model/load';
import { UsageError } from '../../runtime/errors';

const models = new Map<string, Promise<LoadedModel>>();

export function sharedModel(modelPath: string | null): Promise<LoadedModel> {
  if (!modelPath) return Promise.reject(new UsageError('no model is set: run "Tag-LLM: Select Model" or set tagllm.model'));
  let model = models.get(modelPath);
  if (!model) {
    model = loadModel(modelPath);
    models.set(modelPath, model);
    model.catch(() => models.delete(modelPath));
  }
  return model;
}

/** Forgets every model but `keep`, so switching models frees the old one's memory. */
export function releaseModelsExcept(keep: string | null): void {
  for (const key of models.keys()) if (key !== keep) models.delete(key);
}
