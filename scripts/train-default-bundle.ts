// Trains the default tag bundle the README's first command uses (bundles/default/): a
// <SMILES> domain tag (stage 1, next-token likelihood on QM9 SMILES), then function tags for
// measured properties RDKit cannot compute (stage 2, the domain tag frozen): aqueous solubility
// <ESOL> (regression), blood-brain-barrier penetration <BBBP> and clinical-trial toxicity
// <CTTox> (classification: probabilities), and <QED> (computed by RDKit-js, kept to show the
// bounds flag); each with its evidence, applicability domain and percentiles among the
// approved drugs of ClinTox. Merged into one bundle for stories260K.
//   npx tsx scripts/train-default-bundle.ts [OUT]      (default OUT: bundles/default)
// Data and model come from $TAGLLM_DATA_DIR (default ../shared/data) and $TAGLLM_MODEL.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModel } from '../src/runtime/model/load';
import { TrainSession } from '../src/runtime/session/trainSession';
import { makeTagBundle, type TagEntry } from '../src/runtime/tags/bundle';
import { loadTagBundle, saveTagBundle } from '../src/runtime/tags/bundleFiles';
import { modelFingerprint } from '../src/runtime/tags/fingerprint';
import type { TagName } from '../src/runtime/tags/name';
import { runStage, type StageOptions } from '../src/runtime/train/stages';

const data = process.env.TAGLLM_DATA_DIR ?? resolve('..', 'shared', 'data');
const out = process.argv[2] ?? join('bundles', 'default');
const work = mkdtempSync(join(tmpdir(), 'tagllm-default-bundle-'));
const log = (text: string) => process.stderr.write(`${text}\n`);
async function main(): Promise<void> {
  const model = await loadModel(process.env.TAGLLM_MODEL ?? join(data, 'models', 'stories260K.gguf'));
  const backend = await TrainSession.create(model);
  const smiles = '<SMILES>' as TagName;
  const common: Pick<StageOptions, 'model' | 'backend' | 'seed' | 'p' | 'onMessage' | 'onProgress'> = {
    model, backend, seed: 0, p: 10, onMessage: log,
    onProgress: (p) => p.step % 10 === 0 && log(`  step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}${p.validationLoss !== undefined ? ` valid ${p.validationLoss.toFixed(4)}` : ''}`),
  };

  const domainOut = join(work, 'smiles');
  const domain = await runStage({
    ...common, stage: 'domain', data: join(data, 'molnet', 'qm9_smiles.csv'), inputColumns: ['smiles'], domains: [smiles],
    sample: 2000, steps: 40, batchSize: 16, lr: 1e-2, out: domainOut,
  });
  log(JSON.stringify(domain));
  const reports = [domain];
  const functionOuts: string[] = [];
  const molnet = (file: string) => join(data, 'molnet', file);
  const approvedDrugs = molnet('clintox.csv');
  const functionTags: Pick<StageOptions, 'functionTag' | 'data' | 'label' | 'description' | 'datasetName' | 'sample' | 'epochs'>[] = [
    { functionTag: '<ESOL>' as TagName, data: molnet('esol.csv'), label: 'measured log solubility in mols per litre', description: 'aqueous solubility', datasetName: 'ESOL', epochs: 2 },
    { functionTag: '<BBBP>' as TagName, data: molnet('bbbp.csv'), label: 'p_np', description: 'probability of blood-brain barrier penetration', datasetName: 'BBBP', sample: 1000, epochs: 2 },
    { functionTag: '<CTTox>' as TagName, data: molnet('clintox.csv'), label: 'CT_TOX', description: 'probability of toxicity in clinical trials', datasetName: 'ClinTox', epochs: 2 },
    { functionTag: '<QED>' as TagName, data: molnet('bbbp.csv'), label: 'qed', datasetName: 'BBBP', sample: 800, epochs: 2 },
  ];
  for (const fn of functionTags) {
    const dir = join(work, fn.functionTag!.slice(1, -1));
    const r = await runStage({
      ...common, ...fn, stage: 'function', inputColumns: ['smiles'], domains: [smiles], startBundles: [domainOut], freeze: [smiles], approvedDrugs, out: dir,
    });
    log(JSON.stringify(r));
    reports.push(r);
    functionOuts.push(dir);
  }

  const fingerprint = modelFingerprint(model);
  const entries: TagEntry[] = [];
  for (const dir of [domainOut, ...functionOuts]) {
    const { bundle } = await loadTagBundle(dir, fingerprint);
    for (const [name, value] of bundle.values) entries.push({ ...bundle.meta.tags[name], name, value, head: bundle.heads.get(name) });
  }
  await saveTagBundle(out, makeTagBundle(fingerprint, entries));
  await backend.release();
  process.stdout.write(JSON.stringify({ out, reports: reports.map((r) => ({ task: r.task, test: r.test, baselines: r.baselines, wall_s: r.wall_s })) }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
