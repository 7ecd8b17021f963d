// The training graphs' losses and gradients on the real stories260K model, against the
// float64 PyTorch autograd reference (stories260K.grad-reference.json), and against central
// finite differences of the same float32 graph for a few tag coordinates.
// Layout (from the reference): pre tokens (BOS first) | domain tag (p rows) | mid tokens |
// post tokens | function tag (p rows), all as inputs_embeds, mask all ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import type { LoadedModel } from '../../src/runtime/model/description';
import type { LinearHead } from '../../src/runtime/tags/head';
import { trainSession, type TrainBatch } from '../../src/runtime/session/trainSession';

interface GradReference {
  p: number;
  hidden: number;
  pre_ids: number[];
  mid_ids: number[];
  post_ids: number[];
  tag_dom: number[];
  tag_fun: number[];
  head_weight: number[];
  head_bias: number;
  regression: { target: number; y_hat: number; loss: number; grad_tag_dom: number[]; grad_tag_fun: number[]; grad_head_weight: number[]; grad_head_bias: number };
  next_token: { loss: number; grad_tag_dom: number[] };
}

const ref = JSON.parse(readFileSync(dataPath('models', 'stories260K.grad-reference.json'), 'utf8')) as GradReference;
const domStart = ref.pre_ids.length;
const funStart = domStart + ref.p + ref.mid_ids.length + ref.post_ids.length;
const seq = funStart + ref.p;

let modelPromise: Promise<LoadedModel> | undefined;
const model = () => (modelPromise ??= loadGgufModel(dataPath('models', 'stories260K.gguf')));

function batchWith(m: LoadedModel, tagDom: ArrayLike<number>, tagFun: ArrayLike<number>): TrainBatch {
  const h = ref.hidden;
  const embeds = new Float32Array(seq * h);
  embeds.set(embedTokens(m, ref.pre_ids), 0);
  embeds.set(Float32Array.from(tagDom), domStart * h);
  embeds.set(embedTokens(m, [...ref.mid_ids, ...ref.post_ids]), (domStart + ref.p) * h);
  embeds.set(Float32Array.from(tagFun), funStart * h);
  return { batchSize: 1, seqLength: seq, hiddenSize: h, inputsEmbeds: embeds, attentionMask: new BigInt64Array(seq).fill(1n) };
}

/** The gradient rows of a tag: d loss / d inputs_embeds at its p positions. */
const tagRows = (d: Float32Array, start: number) => d.subarray(start * ref.hidden, (start + ref.p) * ref.hidden);

/** ||a - r|| / ||r||, and the largest elementwise |a - r| relative to max |r|. */
function relativeErrors(actual: ArrayLike<number>, reference: ArrayLike<number>): { norm: number; max: number } {
  assert.equal(actual.length, reference.length);
  let diff = 0;
  let size = 0;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < reference.length; i++) {
    diff += (actual[i] - reference[i]) ** 2;
    size += reference[i] ** 2;
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - reference[i]));
    maxRef = Math.max(maxRef, Math.abs(reference[i]));
  }
  return { norm: Math.sqrt(diff / size), max: maxDiff / maxRef };
}

function assertClose(name: string, actual: ArrayLike<number>, reference: ArrayLike<number>, tol = 1e-3) {
  const e = relativeErrors(actual, reference);
  console.log(`  ${name}: relative error ${e.norm.toExponential(2)} (norm), ${e.max.toExponential(2)} (max)`);
  assert.ok(e.norm < tol && e.max < tol, `${name}: relative error ${e.norm} (norm), ${e.max} (max)`);
}

const head: LinearHead = { outputs: 1, hiddenSize: ref.hidden, weight: Float32Array.from(ref.head_weight), bias: Float32Array.of(ref.head_bias) };
const regressionTargets = Float32Array.of(ref.regression.target);
// the PyTorch reference reads the last position only
const readAtEnd = [{ start: seq - 1, length: 1 }];

/** Next-token targets as the reference defines them: positions start-1 .. predict mid + post. */
function nextTokenTargets(): Int32Array {
  const targets = new Int32Array(seq).fill(-1);
  [...ref.mid_ids, ...ref.post_ids].forEach((id, i) => (targets[domStart + ref.p - 1 + i] = id));
  return targets;
}

test('regression loss through a linear head: loss, prediction and gradients match the float64 reference', async () => {
  const m = await model();
  const session = await trainSession(m, { provider: 'cpu' });
  const r = await session.regressionStep(batchWith(m, ref.tag_dom, ref.tag_fun), readAtEnd, regressionTargets, head);
  assert.ok(Math.abs(r.loss - ref.regression.loss) < 1e-5 * ref.regression.loss, `loss ${r.loss} vs ${ref.regression.loss}`);
  assert.ok(Math.abs(r.prediction[0] - ref.regression.y_hat) < 1e-5, `y_hat ${r.prediction[0]} vs ${ref.regression.y_hat}`);
  assertClose('regression grad_tag_dom', tagRows(r.dInputsEmbeds, domStart), ref.regression.grad_tag_dom);
  assertClose('regression grad_tag_fun', tagRows(r.dInputsEmbeds, funStart), ref.regression.grad_tag_fun);
  assertClose('regression grad_head_weight', r.dHeadWeight, ref.regression.grad_head_weight);
  assertClose('regression grad_head_bias', r.dHeadBias, [ref.regression.grad_head_bias]);
});

test('next-token loss over the chosen positions: loss and gradients match the float64 reference', async () => {
  const m = await model();
  const session = await trainSession(m, { provider: 'cpu' });
  const r = await session.nextTokenStep(batchWith(m, ref.tag_dom, ref.tag_fun), nextTokenTargets());
  assert.ok(Math.abs(r.loss - ref.next_token.loss) < 1e-5 * ref.next_token.loss, `loss ${r.loss} vs ${ref.next_token.loss}`);
  assertClose('next-token grad_tag_dom', tagRows(r.dInputsEmbeds, domStart), ref.next_token.grad_tag_dom);
  // The function tag sits after every scored position: causal attention gives it no gradient.
  assert.ok(tagRows(r.dInputsEmbeds, funStart).every((x) => x === 0));
  const evalOnly = await session.nextTokenLoss(batchWith(m, ref.tag_dom, ref.tag_fun), nextTokenTargets());
  assert.equal(evalOnly.count, ref.mid_ids.length + ref.post_ids.length);
  assert.ok(Math.abs(evalOnly.loss - r.loss) < 1e-6 * r.loss);
});

test('d loss / d tag on the real model agrees with central differences of the float32 graph', async () => {
  const m = await model();
  const session = await trainSession(m, { provider: 'cpu' });
  const eps = 1e-2;
  const regressionLoss = async (dom: Float64Array, fun: Float64Array) => (await session.regressionStep(batchWith(m, dom, fun), readAtEnd, regressionTargets, head)).loss;
  const nextTokenLoss = async (dom: Float64Array, fun: Float64Array) => (await session.nextTokenLoss(batchWith(m, dom, fun), nextTokenTargets())).loss;
  const dom = Float64Array.from(ref.tag_dom);
  const fun = Float64Array.from(ref.tag_fun);
  const reg = await session.regressionStep(batchWith(m, dom, fun), readAtEnd, regressionTargets, head);
  const next = await session.nextTokenStep(batchWith(m, dom, fun), nextTokenTargets());
  const checks = [
    { name: 'regression', loss: regressionLoss, which: 'dom', analytic: tagRows(reg.dInputsEmbeds, domStart) },
    { name: 'regression', loss: regressionLoss, which: 'fun', analytic: tagRows(reg.dInputsEmbeds, funStart) },
    { name: 'next-token', loss: nextTokenLoss, which: 'dom', analytic: tagRows(next.dInputsEmbeds, domStart) },
  ] as const;
  for (const check of checks) {
    // The three largest gradient coordinates, where a float32 difference quotient has signal.
    const order = Array.from(check.analytic.keys()).sort((a, b) => Math.abs(check.analytic[b]) - Math.abs(check.analytic[a]));
    for (const k of order.slice(0, 3)) {
      const moved = (delta: number) => {
        const d = dom.slice();
        const f = fun.slice();
        (check.which === 'dom' ? d : f)[k] += delta;
        return check.loss(d, f);
      };
      const numeric = ((await moved(eps)) - (await moved(-eps))) / (2 * eps);
      const analytic = check.analytic[k];
      const rel = Math.abs(numeric - analytic) / Math.abs(analytic);
      console.log(`  ${check.name} d/d tag_${check.which}[${k}]: analytic ${analytic.toExponential(4)}, central difference ${numeric.toExponential(4)} (relative ${rel.toExponential(1)})`);
      assert.ok(rel < 1e-2, `${check.name} tag_${check.which}[${k}]: analytic ${analytic}, numeric ${numeric}`);
    }
  }
});
