// The long fuzz run: `node --import tsx scripts/fuzz-readers.ts [CASES] [SEED] [READER...]` (default
// 100000 cases per reader, seed 1) mutates every reader's seed files (test/fuzz/readers.ts) and
// prints one Markdown table row per reader; non-clean cases are listed with their index, which
// replays with the same seed. Run it with `nice`: it takes one core for a long while.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { READERS, fuzzContext, fuzzReader } from '../test/fuzz/readers';

async function main(): Promise<void> {
  const [casesArg, seedArg, ...names] = process.argv.slice(2);
  const cases = Number(casesArg ?? 100_000);
  const seed = Number(seedArg ?? 1);
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-fuzz-'));
  try {
    const ctx = await fuzzContext(dir);
    console.log('| reader | cases | accepted | clean errors | crashes | hangs | out-of-memory | accepted-but-invalid | seconds |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const reader of READERS.filter((r) => names.length === 0 || names.includes(r.name))) {
      const started = performance.now();
      const t = await fuzzReader(reader, ctx, cases, seed);
      const c = t.counts;
      console.log(`| ${t.reader} | ${t.cases} | ${c.accepted} | ${c['clean error']} | ${c.crash} | ${c.hang} | ${c['out-of-memory']} | ${c['accepted-but-invalid']} | ${((performance.now() - started) / 1000).toFixed(0)} |`);
      for (const f of t.failures) process.stderr.write(`${t.reader} seed ${seed} case ${f.index}: ${f.outcome}: ${f.detail}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
