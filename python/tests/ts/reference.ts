// The TS runtime's side of the companion's parity tests, run by python/tests through tsx:
// reads a request (JSON on stdin) and prints what the TS trainer computes for it as one JSON
// line. Requests: the seeded example order, one regression or next-token step on a bundle's tags (loss, each trainable
// tag's gradient, the head's gradients), or the final hidden states of tagged inputs.
import { readFileSync } from 'node:fs';
import { loadModel } from '../../../src/runtime/model/load';
import { TrainSession } from '../../../src/runtime/session/trainSession';
import { loadTagBundle } from '../../../src/runtime/tags/bundleFiles';
import { batchInputs, expandInput, modelExpansionContext } from '../../../src/runtime/tags/expand';
import { TagRegistry } from '../../../src/runtime/tags/registry';
import { parseTemplate, type SlotValues } from '../../../src/runtime/tags/template';
import type { TagName } from '../../../src/runtime/tags/name';
import { nextTokenTargets } from '../../../src/runtime/train/objectives';
import { SeededRng } from '../../../src/runtime/train/rng';
import { sumTagGradients } from '../../../src/runtime/train/tagGradients';
import { Tokenizer } from '../../../src/runtime/tokenizer/tokenizer';

interface Request {
  readonly kind: 'regression' | 'next_token' | 'hidden';
  readonly model: string;
  readonly bundles: readonly string[];
  readonly template: string;
  readonly inputs: readonly SlotValues[];
  /** Standardized targets (regression). */
  readonly targets?: readonly number[];
  /** The tag a head reads (regression); the tags whose gradients are returned. */
  readonly readTag?: string;
  readonly trainable?: readonly string[];
}

/** The trainer's seeded example order: permutations of these sizes, drawn in turn. */
interface PermutationRequest {
  readonly kind: 'permutations';
  readonly seed: number;
  readonly sizes: readonly number[];
}

async function main(): Promise<void> {
  const request = JSON.parse(readFileSync(0, 'utf8')) as Request | PermutationRequest;
  if (request.kind === 'permutations') {
    const rng = new SeededRng(request.seed);
    process.stdout.write(JSON.stringify({ permutations: request.sizes.map((n) => rng.permutation(n)), state: rng.getState() }) + '\n');
    return;
  }
  const model = await loadModel(request.model);
  const registry = TagRegistry.compose(await Promise.all(request.bundles.map((b) => loadTagBundle(b))));
  const context = modelExpansionContext(model, Tokenizer.forModel(model), (t) => registry.value(t));
  const template = parseTemplate(request.template);
  const readTag = request.readTag as TagName | undefined;
  const rows = request.inputs.map((values) => expandInput(template, values, context, readTag ?? template.tags[template.tags.length - 1]));
  const batch = batchInputs(rows);
  const backend = await TrainSession.create(model, { provider: 'cpu' });
  const trainable = new Set((request.trainable ?? []) as TagName[]);
  const list = (a: Float32Array) => Array.from(a);
  let out: Record<string, unknown>;
  if (request.kind === 'hidden') {
    out = { hidden: list(await backend.hidden(batch)), seqLength: batch.seqLength, rows: rows.map((r) => ({ tokenIds: Array.from(r.tokenIds), tagSpans: r.tagSpans })) };
  } else if (request.kind === 'regression') {
    const head = registry.get(readTag!).head!;
    const res = await backend.regressionStep(batch, rows.map((r) => r.readSpan), Float32Array.from(request.targets!), head);
    const tags = Object.fromEntries([...sumTagGradients(batch, res.dInputsEmbeds, trainable)].map(([t, g]) => [t, list(g)]));
    out = { loss: res.loss, tags, headWeight: list(res.dHeadWeight), headBias: list(res.dHeadBias) };
  } else {
    const res = await backend.nextTokenStep(batch, nextTokenTargets(batch));
    out = { loss: res.loss, tags: Object.fromEntries([...sumTagGradients(batch, res.dInputsEmbeds, trainable)].map(([t, g]) => [t, list(g)])) };
  }
  await backend.release();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
