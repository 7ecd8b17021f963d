// The markdown table of docs/RESULTS.md's translation section from scripts/translation-runs.ts's
// results files (several are joined, e.g. seeds scored by separate runs): per pair and method,
// chrF and BLEU as the mean over the seeds, then each seed.
//   npx tsx scripts/translation-table.ts OUT/results.json [MORE.json…]
import { readFileSync } from 'node:fs';

interface Scores { chrf: number; bleu: number }
interface Results { results: { seed: number; scores: Record<string, Record<string, Scores>> }[] }

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: translation-table.ts RESULTS.json [MORE.json…]');
const results = files.flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as Results).results).sort((a, b) => a.seed - b.seed);
const METHODS: [string, string][] = [
  ['tags', 'tags (`<Src> … <Tgt> <Translate>`)'],
  ['instruction', 'no tags, instruction'],
  ['few_shot_3', 'no tags, 3-shot'],
  ['trained_directly', '`<Translate>` trained on the pair (upper bound)'],
];
const PAIRS: [string, string][] = [['en-de', 'en→de (trained)'], ['en-fr', 'en→fr (trained)'], ['en-cs', 'en→cs (zero-shot)'], ['de-fr', 'de→fr (zero-shot)']];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number) => x.toFixed(1);
const lines = [`| pair | method | chrF (mean) | BLEU (mean) | chrF per seed (${results.map((r) => r.seed).join(', ')}) | BLEU per seed |`, '| --- | --- | ---: | ---: | --- | --- |'];
for (const [pair, pairName] of PAIRS) {
  for (const [key, name] of METHODS) {
    const runs = results.map((r) => r.scores[pair]?.[key]).filter((s): s is Scores => s !== undefined);
    if (runs.length === 0) continue;
    const chrf = runs.map((s) => s.chrf);
    const bleu = runs.map((s) => s.bleu);
    lines.push(`| ${pairName} | ${name} | ${f(mean(chrf))} | ${f(mean(bleu))} | ${chrf.map(f).join(' / ')} | ${bleu.map(f).join(' / ')} |`);
  }
}
process.stdout.write(lines.join('\n') + '\n');
