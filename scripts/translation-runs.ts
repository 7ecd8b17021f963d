// The paper's translation experiment on Multi30k, small: language domain tags <EN> <DE> <FR>
// <CS> (stage 1, monolingual text), <Translate> (stage 3, domain tags frozen) on en→de and
// en→fr, then chrF and BLEU on the test_2016_flickr captions for en→de, en→fr (trained) and
// en→cs, de→fr (zero-shot: tags composed from separately saved bundles), each beside the
// untagged model with a plain instruction and with 3 solved examples, and for the zero-shot
// pairs <Translate> trained on those pairs directly (an upper bound; one run learns en→cs and
// de→fr together, as the main run learns en→de and en→fr). The instruction baseline is greedy
// decoding of the base model, the same for every seed, so it runs once; the few-shot examples
// are drawn per seed.
//   npx tsx scripts/translation-runs.ts [--seeds 0,1,2] [--rows 2000] [--test 60] [--domain-steps 60] [--translate-steps 120] [--lr 0.03] [--max-new-tokens 80] [--out DIR]
// Decoding is greedy; `--sample T,P` samples every method alike at temperature T and top-p P
// (the paper's generation.py: 0.6, 0.95) with the run's seed, and `--score-only` scores the
// bundles an earlier run left in OUT instead of training (results then go to OUT/results-sampled.json
// when sampling).
// Model: $TAGLLM_MODEL, else stories260K.gguf under $TAGLLM_DATA_DIR (default ../shared/data);
// data: $TAGLLM_DATA_DIR/translation/multi30k. The report (JSON) is the last stdout line and goes to OUT/results.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/runtime/model/load';
import { TrainSession } from '../src/runtime/session/trainSession';
import type { TagName } from '../src/runtime/tags/name';
import type { SlotValues } from '../src/runtime/tags/template';
import { SeededRng } from '../src/runtime/train/rng';
import { runStage } from '../src/runtime/train/stages';
import { runTextStage, scoreTextTask, type TextScores } from '../src/runtime/train/textStage';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0,1,2' }, rows: { type: 'string', default: '2000' }, test: { type: 'string', default: '60' },
    'domain-steps': { type: 'string', default: '60' }, 'translate-steps': { type: 'string', default: '120' }, lr: { type: 'string', default: '0.03' },
    'max-new-tokens': { type: 'string', default: '80' },
    sample: { type: 'string' }, 'score-only': { type: 'boolean', default: false },
    out: { type: 'string', default: join(tmpdir(), 'tagllm-translation') },
  },
});
const data = process.env.TAGLLM_DATA_DIR ?? resolve('..', 'shared', 'data');
const multi30k = join(data, 'translation', 'multi30k');
const LANGS = { en: 'English', de: 'German', fr: 'French', cs: 'Czech' } as const;
type Lang = keyof typeof LANGS;
const tagOf = (l: Lang) => `<${l.toUpperCase()}>` as TagName;
const log = (text: string) => process.stderr.write(`${text}\n`);

/** The paper's placement (get_data.py's Translate template without its "# #" markers). */
const template = (s: Lang, t: Lang) => `Input: ${tagOf(s)} {${s}} Output: ${tagOf(t)} <Translate> {${t}}`;
const instruction = (s: Lang, t: Lang) => `Translate ${LANGS[s]} to ${LANGS[t]}. ${LANGS[s]}: {${s}} ${LANGS[t]}:`;

function parallel(split: string): SlotValues[] {
  const columns = Object.keys(LANGS).map((l) => readFileSync(join(multi30k, `${split}.${l}`), 'utf8').split('\n'));
  const n = Math.min(...columns.map((c) => c.length));
  const rows: SlotValues[] = [];
  for (let i = 0; i < n; i++) {
    const row = Object.fromEntries(Object.keys(LANGS).map((l, k) => [l, columns[k][i].trim()]));
    if (Object.values(row).every((v) => v !== '')) rows.push(row);
  }
  return rows;
}

async function main(): Promise<void> {
  const seeds = args.seeds!.split(',').map(Number);
  const nRows = Number(args.rows);
  const lr = Number(args.lr);
  const model = await loadModel(process.env.TAGLLM_MODEL ?? join(data, 'models', 'stories260K.gguf'));
  const backend = await TrainSession.create(model);
  const all = parallel('train');
  const test = parallel('test_2016_flickr').slice(0, Number(args.test));
  const results: Record<string, unknown>[] = [];
  const instructionScores: Record<string, TextScores> = {};
  const [temperature, topP] = (args.sample ?? '').split(',').map(Number);
  const sampled = args.sample !== undefined;
  const resultsFile = join(args.out!, sampled ? 'results-sampled.json' : 'results.json');
  for (const seed of seeds) {
    const dir = join(args.out!, `seed${seed}`);
    mkdirSync(dir, { recursive: true });
    // the monolingual text of the language tags and the pairs of <Translate> are different captions
    const order = new SeededRng(seed).permutation(all.length);
    const pairs = order.slice(0, nRows).map((i) => all[i]);
    const mono = order.slice(nRows, 2 * nRows).map((i) => all[i]);
    const progress = (name: string) => (p: { step: number; totalSteps: number; loss: number; validationLoss?: number }) =>
      p.step % 50 === 0 && log(`  ${name} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)}${p.validationLoss !== undefined ? ` valid ${p.validationLoss.toFixed(3)}` : ''}`);
    const lang: Record<string, string> = Object.fromEntries(Object.keys(LANGS).map((l) => [l, join(dir, `lang-${l}`)]));
    const stageReports: Record<string, unknown> = {};
    for (const l of args['score-only'] ? [] : (Object.keys(LANGS) as Lang[])) {
      const file = join(dir, `mono.${l}.txt`);
      writeFileSync(file, mono.map((r) => r[l]).join('\n') + '\n');
      const r = await runStage({
        stage: 'domain', model, backend, data: file, inputColumns: ['text'], domains: [tagOf(l)], steps: Number(args['domain-steps']), batchSize: 16, lr, seed,
        out: lang[l], baselines: true, onMessage: log, onProgress: progress(tagOf(l)),
      });
      stageReports[`lang_${l}`] = { nll: r.test.nll, untagged_nll: r.baselines.untagged?.nll, steps: r.steps, best_step: r.best_step };
      log(`${tagOf(l)}: test NLL ${r.test.nll} (untagged ${r.baselines.untagged?.nll})`);
    }
    const train = async (name: string, directions: [Lang, Lang][]) => {
      const out = join(dir, name);
      const langs = [...new Set(directions.flat())];
      const r = await runTextStage({
        stage: 'cross', model, backend, rows: pairs, dataName: 'multi30k train', tasks: directions.map(([s, t]) => ({ template: template(s, t) })),
        startBundles: langs.map((l) => lang[l]), steps: Number(args['translate-steps']), batchSize: 16, lr, seed, testRows: 0, out, onMessage: log, onProgress: progress(name),
      });
      stageReports[name] = { valid_loss_start: r.valid_loss_start, valid_loss_best: r.valid_loss_best, steps: r.steps, best_step: r.best_step, wall_s: r.wall_s };
      return out;
    };
    const translate = args['score-only'] ? join(dir, 'translate') : await train('translate', [['en', 'de'], ['en', 'fr']]);
    const direct = args['score-only'] ? join(dir, 'translate-direct') : await train('translate-direct', [['en', 'cs'], ['de', 'fr']]);

    const scores: Record<string, Record<string, TextScores>> = {};
    const samples: Record<string, unknown> = {};
    for (const [s, t] of [['en', 'de'], ['en', 'fr'], ['en', 'cs'], ['de', 'fr']] as [Lang, Lang][]) {
      const pair = `${s}-${t}`;
      const common = {
        model, template: template(s, t), instruction: instruction(s, t), rows: test, fewShotPool: pairs, maxNewTokens: Number(args['max-new-tokens']), seed,
        ...(sampled && { sampling: { temperature, topP, seed } }),
      };
      // greedy decoding of the base model gives the same instruction outputs for every seed
      const r = await scoreTextTask({ ...common, bundles: [translate, lang[s], lang[t]], fewShot: 3, instructionBaseline: sampled || !(pair in instructionScores) });
      if (r.baselines.instruction) instructionScores[pair] = r.baselines.instruction;
      scores[pair] = { tags: r.test, instruction: instructionScores[pair], ...r.baselines };
      samples[pair] = r.samples;
      if (pair === 'en-cs' || pair === 'de-fr') {
        const d = await scoreTextTask({ ...common, bundles: [direct, lang[s], lang[t]], fewShot: 0, instructionBaseline: false });
        scores[pair].trained_directly = d.test;
      }
      log(`seed ${seed} ${pair}: ${JSON.stringify(scores[pair])}`);
    }
    results.push({ seed, scores, stages: stageReports, samples });
    writeFileSync(resultsFile, JSON.stringify({ args, model: model.source.path, results }, null, 2) + '\n');
  }
  await backend.release();
  process.stdout.write(JSON.stringify({ args, results }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
