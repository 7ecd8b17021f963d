// A small fixed budget of the fuzz suite (test/fuzz/readers.ts) in every `npm test`: for each
// reader, mutated seed files end as valid acceptances or one-line typed errors, never a crash, a
// hang, out-of-memory, or an invalid file accepted. The long run is scripts/fuzz-readers.ts.
// A failure names the seed and case index; `node --import tsx scripts/fuzz-readers.ts N SEED READER` replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { READERS, fuzzContext, fuzzReader } from './readers';

const CASES = 150;
const SEED = 20261202;
const dir = mkdtempSync(join(tmpdir(), 'tagllm-fuzz-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

for (const reader of READERS) {
  test(`fuzz ${reader.name}: ${CASES} mutated files, seed ${SEED}`, async () => {
    const t = await fuzzReader(reader, await fuzzContext(dir), CASES, SEED);
    assert.deepEqual(t.failures, [], `${reader.name} seed ${SEED}: ${JSON.stringify(t.failures)}`);
    assert.equal(t.counts.accepted + t.counts['clean error'], CASES);
    // the mutations leave some inputs readable, so the oracle is exercised too
    assert.ok(t.counts.accepted > 0, JSON.stringify(t.counts));
  });
}
