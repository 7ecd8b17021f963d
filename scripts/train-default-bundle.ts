// Trains the default tag bundle the README's first command uses (bundles/default/): a
// <SMILES> domain tag (stage 1, next-token likelihood on QM9 SMILES), then <QED> and <LogP>
// function tags with their heads (stage 2, labels computed by RDKit-js on BBBP SMILES, the
// domain tag frozen), merged into one bundle for stories260K.
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
  for (const [tag, label] of [['<QED>', 'qed'], ['<LogP>', 'logp']] as const) {
    const dir = join(work, label);
    const r = await runStage({
      ...common, stage: 'function', data: join(data, 'molnet', 'bbbp.csv'), inputColumns: ['smiles'], domains: [smiles], functionTag: tag as TagName,
      label, sample: 800, epochs: 2, startBundles: [domainOut], freeze: [smiles], out: dir,
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
