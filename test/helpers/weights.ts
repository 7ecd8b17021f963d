// A model's weights all as float32 (quantized ones dequantized), for tests that compare values.
import type { F32Tensor, LoadedModel } from '../../src/runtime/model/description';
import { floatTensor } from '../../src/runtime/model/tensor';

export function floatWeights(model: Pick<LoadedModel, 'weights'>): Map<string, F32Tensor> {
  return new Map([...model.weights].map(([name, t]) => [name, floatTensor(t)]));
}
