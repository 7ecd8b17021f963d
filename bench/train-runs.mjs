// The training runs reported in docs/RESULTS.md: stage 1 on QM9 SMILES, stage 2 on ESOL
// solubility, RDKit QED and protein descriptors, stage 3 on Davis binding affinity (the
// given folds), each through `tagllm train` with its baselines on the same split. Stage-2
// sets are small (80-113 test rows), so each runs with seeds 0, 1 and 2 (three random
// splits). Run `npm run build` first.
//   node bench/train-runs.mjs [NAME[/seedS]...]   (names: smiles-domain esol qed bbbp clintox protein protein-pi protein-gravy protein-aromaticity protein-charge protein-mw esol-p30 qed-p30 protein-p30 esol-s1 qed-s1 synergy protein-domain davis davis-3epochs davis-epochs4-6 davis-epoch2 davis-staged)
// Writes each report (the CLI's last stdout line) to bench/train-runs.json under NAME or
// NAME/seedS, and the bundles and logs to $TAGLLM_RUNS_DIR (default: a folder in the system temp dir).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const data = process.env.TAGLLM_DATA_DIR ?? '/work/shared/data';
const model = process.env.TAGLLM_MODEL ?? join(data, 'models', 'stories260K.gguf');
const runs = process.env.TAGLLM_RUNS_DIR ?? join(tmpdir(), 'tagllm-train-runs');
mkdirSync(runs, { recursive: true });

/** Davis as one CSV: the pair table joined with drug SMILES and protein sequences. */
function davisCsv() {
  const out = join(runs, 'davis-joined.csv');
  if (existsSync(out)) return out;
  const dir = join(data, 'dti', 'davis');
  const smiles = new Map(readFileSync(join(dir, 'drugs.csv'), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(',')));
  const sequences = new Map();
  let id;
  for (const line of readFileSync(join(dir, 'proteins.fasta'), 'utf8').split(/\r?\n/)) {
    if (line.startsWith('>')) sequences.set((id = line.slice(1).trim().split(/\s/)[0]), '');
    else if (id) sequences.set(id, sequences.get(id) + line.trim());
  }
  const rows = readFileSync(join(dir, 'pairs.csv'), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => {
    const [drug, protein, pkd, split] = l.split(',');
    return [smiles.get(drug), sequences.get(protein), pkd, split].join(',');
  });
  writeFileSync(out, 'smiles,sequence,pkd,split\n' + rows.join('\n') + '\n');
  return out;
}

const common = ['--model', model];
/** Davis stage 3 on all pairs of the given folds, `epochs` passes at peak rate `lr`. */
const davisArgs = (lr, epochs = 1) => ['--stage', 'cross', '--tag', '<BA>', '--domain', '<Protein>,<SMILES>', '--data', davisCsv(), '--inputs', 'sequence,smiles',
  '--label', 'pkd', '--split', 'split', '--valid-fold', 'train4', '--max-length', '128', '--epochs', String(epochs), '--lr', lr];
const STAGE2_SEEDS = [0, 1, 2];
/** Stage 2 on a descriptor computed from 800 sampled DTC target sequences (first 128 residues). */
const proteinArgs = (tag, label) => ['--stage', 'function', '--tag', tag, '--domain', '<Protein>', '--data', join(data, 'proteins', 'dtc_targets.fasta'),
  '--input-column', 'sequence', '--label', label, '--max-length', '128', '--sample', '800', '--epochs', '3'];
const RUNS = {
  'smiles-domain': () => ['--stage', 'domain', '--tag', '<SMILES>', '--data', join(data, 'molnet', 'qm9_smiles.csv'), '--input-column', 'smiles',
    '--sample', '3000', '--steps', '60', '--batch', '16', '--lr', '1e-2'],
  esol: () => ['--stage', 'function', '--tag', '<Solubility>', '--domain', '<SMILES>', '--data', join(data, 'molnet', 'esol.csv'), '--input-column', 'smiles',
    '--label', 'measured log solubility in mols per litre', '--epochs', '3'],
  qed: () => ['--stage', 'function', '--tag', '<QED>', '--domain', '<SMILES>', '--data', join(data, 'molnet', 'bbbp.csv'), '--input-column', 'smiles',
    '--label', 'qed', '--sample', '1000', '--epochs', '3'],
  protein: () => proteinArgs('<Instability>', 'instability'),
  'protein-pi': () => proteinArgs('<pI>', 'pi'),
  // the other computed protein descriptors, same sequences and splits
  'protein-gravy': () => proteinArgs('<GRAVY>', 'gravy'),
  'protein-aromaticity': () => proteinArgs('<Aromaticity>', 'aromaticity'),
  'protein-charge': () => proteinArgs('<Charge>', 'charge'),
  'protein-mw': () => proteinArgs('<MW>', 'mw'),
  // the same runs with 30 vectors per tag instead of the paper's 10
  'esol-p30': () => [...RUNS.esol(), '--p', '30'],
  'qed-p30': () => [...RUNS.qed(), '--p', '30'],
  'protein-p30': () => [...RUNS.protein(), '--p', '30'],
  // the paper's released QED config: the stage-1 <SMILES> tag (the default bundle's), frozen
  'esol-s1': () => [...RUNS.esol(), '--tags', join('bundles', 'default'), '--freeze', '<SMILES>'],
  'qed-s1': () => [...RUNS.qed(), '--tags', join('bundles', 'default'), '--freeze', '<SMILES>'],
  // two molecules, one frozen stage-1 <SMILES> tag (the default bundle's) before each; no cell line in the template
  synergy: () => ['--stage', 'cross', '--tag', '<DC>', '--domain', '<SMILES>,<SMILES>', '--tags', join('bundles', 'default'), '--data', join(data, 'synergy', 'oneil_loewe.csv'),
    '--inputs', 'smiles1,smiles2', '--label', 'loewe', '--sample', '2000', '--epochs', '2'],
  // classification tags (probabilities; ROC-AUC, PR-AUC beside majority class, logistic probes, fingerprint logistic regression)
  bbbp: () => ['--stage', 'function', '--tag', '<BBBP>', '--domain', '<SMILES>', '--data', join(data, 'molnet', 'bbbp.csv'), '--input-column', 'smiles',
    '--label', 'p_np', '--epochs', '2'],
  clintox: () => ['--stage', 'function', '--tag', '<CTTox>', '--domain', '<SMILES>', '--data', join(data, 'molnet', 'clintox.csv'), '--input-column', 'smiles',
    '--label', 'CT_TOX', '--epochs', '2'],
  'protein-domain': () => ['--stage', 'domain', '--tag', '<Protein>', '--data', join(data, 'proteins', 'bacterial_proteome.faa'), '--input-column', 'sequence',
    '--max-length', '128', '--sample', '2000', '--steps', '60', '--batch', '16', '--lr', '1e-2'],
  // all 30,056 pairs: folds train0-3 train, train4 validates, test tests (about 45 minutes on 2 cores)
  davis: () => davisArgs('3e-3'),
  // three epochs in one run (with the prefix cache, about 15 minutes an epoch)
  'davis-3epochs': () => davisArgs('3e-3', 3),
  // three more epochs from the davis-3epochs bundle of the same seed, at a third of the rate
  'davis-epochs4-6': (seed) => [...davisArgs('1e-3', 3), '--tags', join(runs, outName('davis-3epochs', seed))],
  // a second epoch from the davis run's bundle
  'davis-epoch2': () => [...davisArgs('1e-3'), '--tags', join(runs, 'davis')],
  // the paper's protocol: stage-1 domain tags (protein-domain above, the default bundle's <SMILES>), frozen
  'davis-staged': () => [...RUNS.davis(), '--tags', `${join(runs, 'protein-domain')},${join('bundles', 'default')}`],
};
const SEEDED = new Set(['bbbp', 'clintox', 'esol', 'qed', 'protein', 'protein-pi', 'protein-gravy', 'protein-aromaticity', 'protein-charge', 'protein-mw', 'esol-p30', 'qed-p30', 'protein-p30', 'esol-s1', 'qed-s1']);

/** A run's key in bench/train-runs.json: NAME for seed 0 of an unseeded run, else NAME/seedS. */
const runKey = (name, seed) => (SEEDED.has(name) || seed !== 0 ? `${name}/seed${seed}` : name);
const outName = (name, seed) => runKey(name, seed).replace('/', '-');

const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(RUNS);
const resultsPath = join('bench', 'train-runs.json');
// read again before each write: another invocation may have added runs meanwhile
const readResults = () => (existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {});
const jobs = names.flatMap((arg) => {
  const [name, seed] = arg.split('/seed');
  if (!RUNS[name]) throw new Error(`unknown run ${name}; known: ${Object.keys(RUNS).join(', ')}`);
  const seeds = seed !== undefined ? [Number(seed)] : SEEDED.has(name) ? STAGE2_SEEDS : [0];
  return seeds.map((s) => ({ name, key: runKey(name, s), seed: s }));
});
for (const { name, key, seed } of jobs) {
  const out = join(runs, outName(name, seed));
  const args = ['dist/cli.js', 'train', ...RUNS[name](seed), ...common, '--seed', String(seed), '--out', out];
  process.stderr.write(`\n== ${key}: tagllm ${args.slice(1).join(' ')}\n`);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(`${out}.log`, r.stderr);
  if (r.status !== 0) {
    process.stderr.write(r.stderr.split('\n').slice(-5).join('\n'));
    continue;
  }
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1));
  const results = { ...readResults(), [key]: { command: `tagllm ${args.slice(1).join(' ')}`, report } };
  writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
  process.stderr.write(`${JSON.stringify(report)}\n`);
}
