/**
 * Training graphs: the Llama decoder graph (src/runtime/llama/decoderGraph.ts) extended with a
 * loss, then with its gradients (src/runtime/graph/autodiff/), as one ONNX model. The model's
 * weights stay initializers (frozen); what trains comes in as graph inputs: the input
 * embeddings (tags are rows of them) and, for head losses, the head's weight and bias, so
 * the trainer changes them between steps without rebuilding or recompiling anything.
 * Batch, sequence and head width are symbolic: one graph per (model, loss kind).
 * Quantized weights multiply in exact mode unless told otherwise: with int8 activations (fast
 * mode) the tag gradient of stories260K-Q8_0 is off by up to 14% of its largest coordinate
 * (test/runtime/quantized-training.test.ts), too much for gradients; serving keeps fast mode.
 *
 * Inputs, every kind:
 *   inputs_embeds   float32 [batch, seq, hidden]
 *   attention_mask  int64   [batch, seq]          1 = token, 0 = padding
 * With `past` (a frozen prefix's cached keys and values, src/runtime/train/prefixCache.ts):
 *   past_key_values.{i}.key / .value  float32 [batch, kvHeads, past, headDim]; attention_mask
 *   is then [batch, past+seq]. Nothing is differentiated through them: a prefix holds no
 *   trainable tag.
 * 'next_token':
 *   target_ids      int64   [batch, seq]          the id to predict after each position (any valid id where unweighted)
 *   target_weights  float32 [batch, seq]          1 where a position's prediction counts, 0 elsewhere
 *   loss = sum(w * -log p(target)) / sum(w): the mean NLL over the counted positions.
 * Head kinds read the hidden states (after the final norm) pooled by `read_weights` [batch, seq]
 * float32: h[b] = sum over s of read_weights[b, s] * hidden[b, s, :] (src/runtime/tags/readout.ts
 * makes the weights: the mean over the read tag's p vectors):
 * 'regression':      head_weight [outputs, hidden], head_bias [outputs], targets float32 [batch, outputs]
 *                    prediction = h W^T + b; loss = mean over batch and outputs of (prediction - target)^2
 * 'classification':  head_weight [outputs, hidden], head_bias [outputs], labels int64 [batch] (class index)
 *                    prediction = class logits h W^T + b; loss = mean over the batch of -log softmax(prediction)[label]
 * 'logistic':        head_weight [outputs, hidden], head_bias [outputs], labels float32 [batch, outputs] (0 or 1),
 *                    label_weights float32 [batch, outputs] (a class weight where the label is known, 0 where it is missing)
 *                    prediction = logits h W^T + b (one binary task per output: binary and multi-label classification);
 *                    loss = sum(w * binary cross-entropy) / sum(w), the weighted mean torch's BCEWithLogitsLoss
 *                    would give with weights normalised to their sum
 * 'label_words':     label_token_ids int64 [outputs] (one token per class), labels int64 [batch]
 *                    prediction = the LM head's logits of those tokens only; loss as for 'classification'
 *
 * Outputs: `loss` (scalar), `prediction` [batch, outputs] for head kinds, and after
 * {@link addGradients}: `grad_inputs_embeds` [batch, seq, hidden], plus `grad_head_weight`
 * [outputs, hidden] and `grad_head_bias` [outputs] for 'regression', 'classification' and 'logistic'.
 * Head layouts are torch.nn.Linear's ([outputs, hidden] row-major), as src/runtime/tags/head.ts stores them.
 */
import type { LlamaConfig, WeightMap } from '../model/description';
import type { Graph, Value } from '../graph/graph';
import { grad } from '../graph/autodiff/grad';
import { buildDecoderGraph, lmHeadName } from '../llama/decoderGraph';
import type { QuantizedMatMulMode } from '../llama/quantizedLinear';

export type LossKind = 'next_token' | 'regression' | 'classification' | 'logistic' | 'label_words';

export const LOSS_KINDS: readonly LossKind[] = ['next_token', 'regression', 'classification', 'logistic', 'label_words'];

export interface LossGraph {
  readonly kind: LossKind;
  readonly graph: Graph;
  readonly loss: Value;
  readonly inputsEmbeds: Value;
  /** Graph inputs for the trainable head ('regression', 'classification'). */
  readonly head?: { readonly weight: Value; readonly bias: Value };
}

/** The decoder and the loss, with `loss` (and `prediction`) as outputs; no gradients yet. */
export function buildLossGraph(
  config: LlamaConfig,
  weights: WeightMap,
  kind: LossKind,
  options: { readonly past: boolean; readonly quantizedMatMul?: QuantizedMatMulMode } = { past: false },
): LossGraph {
  const decoder = buildDecoderGraph(config, weights, { logits: kind === 'next_token' ? 'all' : 'none', kvCache: options.past, quantizedMatMul: options.quantizedMatMul ?? 'exact' });
  const g = decoder.graph;
  // The decoder marks its own outputs; a training graph returns only what the trainer reads.
  g.outputs.length = 0;
  const base = { kind, graph: g, inputsEmbeds: decoder.inputsEmbeds };

  if (kind === 'next_token') {
    const targetIds = g.input('target_ids', 'int64', ['batch', 'seq']);
    const targetWeights = g.input('target_weights', 'float32', ['batch', 'seq']);
    const logProbs = logSoftmax(g, decoder.logits!);
    const picked = g.node('GatherElements', [logProbs, g.unsqueeze(targetIds, [2])], { axis: 2 }, [{ dtype: 'float32', shape: ['batch', 'seq', 1] }])[0];
    const weighted = g.reduceSum(g.mul(g.squeeze(picked, [2]), targetWeights), [0, 1], false);
    const loss = g.output(g.neg(g.div(weighted, g.reduceSum(targetWeights, [0, 1], false))), 'loss');
    return { ...base, loss };
  }

  const h = readHidden(g, decoder.hidden);
  if (kind === 'label_words') {
    // The head's logits for every token, then the label words' columns: a quantized head has no
    // rows to gather before the product.
    const tokenIds = g.input('label_token_ids', 'int64', ['outputs']);
    const logits = g.output(g.gather(decoder.weights.linear(h, lmHeadName(config)), tokenIds, 1), 'prediction');
    return { ...base, loss: g.output(crossEntropy(g, logits), 'loss') };
  }

  const weight = g.input('head_weight', 'float32', ['outputs', config.hiddenSize]);
  const bias = g.input('head_bias', 'float32', ['outputs']);
  const prediction = g.output(g.add(g.matMul(h, g.transpose(weight, [1, 0])), bias), 'prediction');
  const head = { weight, bias };
  if (kind === 'classification') return { ...base, head, loss: g.output(crossEntropy(g, prediction), 'loss') };
  if (kind === 'logistic') return { ...base, head, loss: g.output(weightedBinaryCrossEntropy(g, prediction), 'loss') };

  const targets = g.input('targets', 'float32', ['batch', 'outputs']);
  const error = g.sub(prediction, targets);
  const loss = g.output(g.reduceMean(g.mul(error, error), [0, 1], false), 'loss');
  return { ...base, head, loss };
}

/** Appends d loss / d inputs_embeds (and the head's gradients) as graph outputs. */
export function addGradients(lg: LossGraph): LossGraph {
  const wrt = lg.head ? [lg.inputsEmbeds, lg.head.weight, lg.head.bias] : [lg.inputsEmbeds];
  const [dEmbeds, dWeight, dBias] = grad(lg.graph, lg.loss, wrt);
  lg.graph.output(dEmbeds, 'grad_inputs_embeds');
  if (lg.head) {
    lg.graph.output(dWeight, 'grad_head_weight');
    lg.graph.output(dBias, 'grad_head_bias');
  }
  return lg;
}

/** sum over s of read_weights[b, s] * hidden[b, s, :] for each row b: [batch, hidden]. */
function readHidden(g: Graph, hidden: Value): Value {
  const readWeights = g.input('read_weights', 'float32', ['batch', 'seq']);
  return g.squeeze(g.matMul(g.unsqueeze(readWeights, [1]), hidden), [1]);
}

/** Mean over the batch of -log softmax(logits)[label], labels from the `labels` input. */
function crossEntropy(g: Graph, logits: Value): Value {
  const labels = g.input('labels', 'int64', ['batch']);
  const logProbs = logSoftmax(g, logits);
  const picked = g.node('GatherElements', [logProbs, g.unsqueeze(labels, [1])], { axis: 1 }, [{ dtype: 'float32', shape: ['batch', 1] }])[0];
  return g.neg(g.reduceMean(picked, [0, 1], false));
}

/**
 * sum(w * -(y log σ(z) + (1 - y) log σ(-z))) / sum(w) over [batch, outputs]. log σ(±z) come
 * from a log softmax over the pair (0, z), which stays finite for logits of any size.
 */
function weightedBinaryCrossEntropy(g: Graph, logits: Value): Value {
  const labels = g.input('labels', 'float32', ['batch', 'outputs']);
  const weights = g.input('label_weights', 'float32', ['batch', 'outputs']);
  const z = g.unsqueeze(logits, [2]);
  const pair = g.concat([g.mul(z, g.scalar(0, 'zero')), z], 2);
  const logProbs = logSoftmax(g, pair);
  const [logNegative, logPositive] = g.split(logProbs, [1, 1], 2).map((v) => g.squeeze(v, [2]));
  const y = labels;
  const likelihood = g.add(g.mul(y, logPositive), g.mul(g.sub(g.scalar(1, 'one'), y), logNegative));
  const total = g.reduceSum(g.mul(weights, likelihood), [0, 1], false);
  return g.neg(g.div(total, g.reduceSum(weights, [0, 1], false)));
}

/**
 * log softmax over the last axis as x - max - log(sum(exp(x - max))), in ops that every provider
 * runs: onnxruntime's WebGPU provider has no LogSoftmax kernel, and placing it on the CPU copies
 * the [batch, seq, vocab] logits off the GPU and back in every step.
 */
function logSoftmax(g: Graph, x: Value): Value {
  const shifted = g.sub(x, g.reduceMax(x, [-1], true));
  return g.sub(shifted, g.log(g.reduceSum(g.exp(shifted), [-1], true)));
}
