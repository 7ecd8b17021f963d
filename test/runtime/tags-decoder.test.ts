// Tag vectors set to the embeddings of known tokens must give exactly what those tokens give:
// the splice is transparent to the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { decoderSession } from '../../src/runtime/session/decoderSession';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import { parseTagName, type TagName, type TagValue } from '../../src/runtime/tags/name';
import { parseTemplate } from '../../src/runtime/tags/template';
import { batchInputs, expandInput, modelExpansionContext } from '../../src/runtime/tags/expand';

const reference = JSON.parse(readFileSync(dataPath('models/stories260K.reference.json'), 'utf8'));

test('tags equal to token embeddings reproduce the plain input: ids, hidden states, and the reference', async () => {
  const model = await loadGgufModel(dataPath('models/stories260K.gguf'));
  const tokenizer = Tokenizer.forModel(model);
  const H = model.config.hiddenSize;
  const asTag = (word: string): TagValue => {
    const ids = tokenizer.encode(word, { addBos: false });
    return { p: ids.length, hiddenSize: H, data: embedTokens(model, ids) };
  };
  const tags = new Map<TagName, TagValue>([
    [parseTagName('<Time>'), asTag('time')],
    [parseTagName('<Park>'), asTag('park.')],
  ]);
  const context = modelExpansionContext(model, tokenizer, (t) => tags.get(t)!);

  // With SentencePiece, a tag is a clean word boundary: the pieces join to the whole text's ids.
  const once = expandInput(parseTemplate('Once upon a <Time>'), {}, context);
  const plainOnce = tokenizer.encode('Once upon a time');
  assert.deepEqual(plainOnce, reference.cases[0].input_ids_with_bos);
  // (Punctuation right after a tag would start a new run and get its own "▁", so the tag takes the full stop.)
  const saw = expandInput(parseTemplate('Lily and Ben went to the <Park> They saw a big red ball.'), {}, context);
  const plainSaw = tokenizer.encode('Lily and Ben went to the park. They saw a big red ball.');
  for (const [x, plain] of [[once, plainOnce], [saw, plainSaw]] as const) {
    const spliced = [...x.tokenIds];
    for (const span of x.tagSpans) spliced.splice(span.start, span.length, ...tokenizer.encode(span.tag === '<Time>' ? 'time' : 'park.', { addBos: false }));
    assert.deepEqual(spliced, plain);
  }

  const session = await decoderSession(model, { logits: 'none', kvCache: false, provider: 'cpu' });
  for (const [x, plain, refCase] of [[once, plainOnce, reference.cases[0]], [saw, plainSaw, undefined]] as const) {
    const tagged = await session.forward(x.inputsEmbeds, [1, x.seqLength], new BigInt64Array(x.seqLength).fill(1n));
    const direct = await session.forward(embedTokens(model, plain), [1, plain.length], new BigInt64Array(plain.length).fill(1n));
    assert.deepEqual(tagged.hidden.data, direct.hidden.data);
    if (refCase) {
      const last = tagged.hidden.data.subarray((x.seqLength - 1) * H);
      const worst = Math.max(...refCase.last_hidden_after_norm.map((v: number, i: number) => Math.abs(v - last[i])));
      assert.ok(worst < 1e-4, `last hidden state differs from transformers by ${worst}`);
    }
  }

  // Batched with right padding, each row's real positions match its single-row run.
  const batch = batchInputs([once, saw]);
  const out = await session.forward(batch.inputsEmbeds, [2, batch.seqLength], batch.attentionMask);
  for (const [b, x] of [once, saw].entries()) {
    const alone = await session.forward(x.inputsEmbeds, [1, x.seqLength], new BigInt64Array(x.seqLength).fill(1n));
    const row = out.hidden.data.subarray(b * batch.seqLength * H, (b * batch.seqLength + x.seqLength) * H);
    const worst = Math.max(...row.map((v, i) => Math.abs(v - alone.hidden.data[i])));
    assert.ok(worst < 1e-5, `row ${b} differs from its single run by ${worst}`);
  }
});
