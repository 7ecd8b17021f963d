// chrF and BLEU against sacreBLEU 2 itself (run from the project's Python), on small cases
// chosen to reach every branch: matches at some orders only, no match at all, an empty
// hypothesis, a short hypothesis (brevity penalty), the 13a tokenizer's punctuation and
// digit rules, HTML entities, accents and non-Latin letters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pythonExecutable } from '../helpers/python';
import { bleu, chrF, tokenize13a } from '../../src/runtime/train/textMetrics';

const CORPORA: { name: string; hyp: string[]; ref: string[] }[] = [
  { name: 'close German', hyp: ['Ein Mann fährt Fahrrad.', 'Zwei Hunde spielen im Schnee'], ref: ['Ein Mann fährt ein Fahrrad.', 'Zwei Hunde spielen im Schnee.'] },
  { name: 'unrelated', hyp: ['Once upon a time there was a little girl named Lily.'], ref: ['Muž v modrém tričku stojí u auta.'] },
  { name: 'empty hypothesis', hyp: ['', 'Une femme chante.'], ref: ['Un homme court.', 'Une femme chante dans la rue.'] },
  { name: 'short hypothesis', hyp: ['a dog'], ref: ['a dog runs across the green grass in the park'] },
  { name: 'tokenizer', hyp: ['It costs 3,50 $ - or 1.5-2 "units" &amp; more... (really)?'], ref: ['It costs 3,50$ or 1.5 - 2 &quot;units&quot; & more... [really]!'] },
  { name: 'unigrams only', hyp: ['grass the on dog a'], ref: ['a dog on the grass'] },
  { name: 'spaces and tabs', hyp: ['  Ein\tKind  schläft . '], ref: ['Ein Kind schläft.'] },
];

function sacrebleu(): { chrf: number; bleu: number; tok: string }[] {
  const script = [
    'import json, sys',
    'from sacrebleu.metrics import BLEU, CHRF',
    'from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a',
    'cases = json.load(sys.stdin)',
    'tok = Tokenizer13a()',
    'print(json.dumps([{"chrf": CHRF().corpus_score(c["hyp"], [c["ref"]]).score, "bleu": BLEU().corpus_score(c["hyp"], [c["ref"]]).score, "tok": tok(c["hyp"][0])} for c in cases]))',
  ].join('\n');
  const run = spawnSync(pythonExecutable(), ['-c', script], { input: JSON.stringify(CORPORA), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

test('chrF, BLEU and the 13a tokenizer equal sacreBLEU on small corpora', () => {
  const expected = sacrebleu();
  CORPORA.forEach((c, k) => {
    assert.equal(tokenize13a(c.hyp[0]), expected[k].tok, `${c.name}: 13a tokens`);
    assert.ok(Math.abs(chrF(c.hyp, c.ref) - expected[k].chrf) < 1e-9, `${c.name}: chrF ${chrF(c.hyp, c.ref)} vs sacreBLEU ${expected[k].chrf}`);
    assert.ok(Math.abs(bleu(c.hyp, c.ref) - expected[k].bleu) < 1e-9, `${c.name}: BLEU ${bleu(c.hyp, c.ref)} vs sacreBLEU ${expected[k].bleu}`);
  });
  // the cases must exercise the scores' range, not sit at one value
  assert.ok(expected.some((e) => e.bleu === 0) && expected.some((e) => e.bleu > 30));
});

test('a perfect hypothesis scores 100 and mismatched lists are refused', () => {
  assert.equal(chrF(['Ein Hund.'], ['Ein Hund.']), 100);
  assert.ok(Math.abs(bleu(['a b c d e'], ['a b c d e']) - 100) < 1e-9);
  assert.throws(() => chrF(['a'], []), RangeError);
});
