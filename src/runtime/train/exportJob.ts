// A training job for the PyTorch companion (python/, docs/python-companion.md): the data of a
// `tagllm train` run, read, labelled and split here exactly as runStage would, with every
// default resolved, so the cluster trains on the same rows, in the same seeded order, with the
// same template, schedule and starting tags. The folder holds job.json, data.csv (one column per
// template slot, `label`, and `split` = train / valid / test in the TS row order), the start
// bundles under start/, and launch scripts for torchrun and Slurm.
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors';
import { writeFolderAtomic } from '../fs/atomicWrite';
import type { LoadedModel } from '../model/description';
import { loadTagBundle, saveTagBundle } from '../tags/bundleFiles';
import { modelFingerprint, type ModelFingerprint } from '../tags/fingerprint';
import type { TagName } from '../tags/name';
import { DEFAULT_BATCH, DEFAULT_HEAD_LR_FACTOR, DEFAULT_LR, DEFAULT_MICRO_BATCH, DEFAULT_P, readStageData, trainingSchedule, type StageDataOptions } from './stages';
import { DEFAULT_WARMUP_FRACTION } from './schedule';
import type { Stage } from './task';

export const JOB_FORMAT = 'tagllm.trainjob';
export const JOB_FORMAT_VERSION = 1;
export const JOB_FILE = 'job.json';
export const JOB_DATA = 'data.csv';

/** job.json: what python/tagllm_torch/job.py reads. */
export interface TrainingJob {
  readonly format: typeof JOB_FORMAT;
  readonly formatVersion: typeof JOB_FORMAT_VERSION;
  readonly stage: Stage;
  readonly template: string;
  /** data.csv's input columns, named after the template's slots, in input order. */
  readonly slots: readonly string[];
  readonly domains: readonly TagName[];
  readonly functionTag: TagName | null;
  readonly label: string | null;
  readonly description: string;
  readonly units: string;
  /** Tags the run trains; the template's other tags stay as their start bundle has them. */
  readonly trainable: readonly TagName[];
  readonly p: number;
  readonly lr: number;
  readonly headLr: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly microBatch: number;
  readonly evalBatch: number;
  readonly seed: number;
  readonly evalEvery: number;
  readonly patience: number;
  readonly checkpointEvery: number;
  readonly warmupFraction: number;
  readonly weightDecay: number;
  /** Folders of the start bundles, relative to the job folder. */
  readonly startBundles: readonly string[];
  readonly baseModel: ModelFingerprint;
  readonly data: typeof JOB_DATA;
  /** The data file the rows came from (the bundle's training summary names it). */
  readonly dataName: string;
  readonly nSkipped: number;
}

export interface ExportJobOptions extends StageDataOptions {
  readonly model: LoadedModel;
  readonly out: string;
}

/** Writes the job folder `options.out` (which must not exist, or be empty); returns job.json's content and the number of data rows. */
export async function exportTrainingJob(options: ExportJobOptions, say: (text: string) => void = () => undefined): Promise<{ job: TrainingJob; rows: number }> {
  const target = resolve(options.out);
  if (existsSync(target) && readdirSync(target).length > 0) throw new UsageError('the job folder already exists and is not empty; remove it or choose another', options.out);
  const { task, description, units, set, split } = await readStageData(options, say);
  const tags = task.template.tags;
  const frozen = new Set(options.freeze ?? (options.stage === 'cross' ? options.domains : []));
  const fingerprint = modelFingerprint(options.model);
  const start = await Promise.all((options.startBundles ?? []).map((b) => loadTagBundle(b, fingerprint)));
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const microBatch = Math.min(options.microBatch ?? DEFAULT_MICRO_BATCH, batchSize);
  const lr = options.lr ?? DEFAULT_LR;
  const schedule = trainingSchedule(options, split.train.length, batchSize);
  const job: TrainingJob = {
    format: JOB_FORMAT,
    formatVersion: JOB_FORMAT_VERSION,
    stage: options.stage,
    template: task.template.text,
    slots: task.slots,
    domains: options.domains,
    functionTag: options.stage === 'domain' ? null : (options.functionTag ?? null),
    label: options.stage === 'domain' ? null : (options.label ?? null),
    description,
    units,
    trainable: tags.filter((t) => !frozen.has(t)),
    p: options.p ?? DEFAULT_P,
    lr,
    headLr: options.headLr ?? lr * DEFAULT_HEAD_LR_FACTOR,
    ...schedule,
    batchSize,
    microBatch,
    evalBatch: Math.max(microBatch, 16),
    seed: options.seed ?? 0,
    patience: options.patience ?? 3,
    warmupFraction: DEFAULT_WARMUP_FRACTION,
    weightDecay: 0,
    startBundles: start.map((_, k) => `start/${k}`),
    baseModel: fingerprint,
    data: JOB_DATA,
    dataName: basename(options.data),
    nSkipped: set.nSkipped,
  };
  const splitOfRow = new Array<string>(set.examples.length);
  for (const name of ['train', 'valid', 'test'] as const) for (const i of split[name]) splitOfRow[i] = name;
  const header = [...task.slots, ...(job.label !== null ? ['label'] : []), 'split'];
  const lines = set.examples.map((e, i) => [...e.inputs, ...(job.label !== null ? [String(e.label)] : []), splitOfRow[i]].map(csvField).join(','));
  const tag = (job.functionTag ?? options.domains[0]).slice(1, -1);
  await mkdir(dirname(target), { recursive: true });
  await writeFolderAtomic(target, async (tmp) => {
    await writeFile(join(tmp, JOB_FILE), JSON.stringify(job, null, 2) + '\n');
    await writeFile(join(tmp, JOB_DATA), [header.join(','), ...lines].join('\n') + '\n');
    for (const [k, { bundle }] of start.entries()) await saveTagBundle(join(tmp, 'start', String(k)), bundle);
    await script(join(tmp, 'train-torchrun.sh'), torchrunScript());
    await script(join(tmp, 'train-slurm.sbatch'), slurmScript(tag));
  });
  say(`${set.examples.length} rows (${split.train.length} train, ${split.valid.length} valid, ${split.test.length} test), ${job.steps} steps`);
  return { job, rows: set.examples.length };
}

/** RFC 4180: quote a field holding a comma, quote or line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

async function script(path: string, text: string): Promise<void> {
  await writeFile(path, text);
  await chmod(path, 0o755);
}

const COMPANION_NOTE = [
  '# Needs the PyTorch companion: `pip install -e python/` from a tagllm checkout (docs/python-companion.md).',
  '# MODEL: the base model as a Hugging Face folder (`tagllm export-hf --model FILE.gguf --out DIR` makes one);',
  '# it must be the model this job was exported for (the job records its fingerprint, and the run checks it).',
].join('\n');

function torchrunScript(): string {
  return `#!/usr/bin/env bash
${COMPANION_NOTE}
# NPROC processes on this machine (default 1); the bundle goes to OUT (default ./bundle).
# A run that stops can continue with: ./train-torchrun.sh --resume
set -euo pipefail
cd "$(dirname "$0")"
MODEL=\${MODEL:?set MODEL to the base model folder}
exec torchrun --standalone --nproc_per_node "\${NPROC:-1}" -m tagllm_torch train --job . --model "$MODEL" --out "\${OUT:-bundle}" --report report.json "$@"
`;
}

function slurmScript(tag: string): string {
  return `#!/usr/bin/env bash
#SBATCH --job-name=tagllm-${tag}
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --output=%x-%j.out
#SBATCH --requeue
${COMPANION_NOTE}
# Submit from this folder: MODEL=/path/to/hf-model sbatch train-slurm.sbatch [--fsdp]. One torchrun per node,
# one process per GPU; a requeued or resubmitted job resumes from bundle.checkpoint.
set -euo pipefail
JOB_DIR=\${JOB_DIR:-$SLURM_SUBMIT_DIR}
MODEL=\${MODEL:?set MODEL to the base model folder}
GPUS=\${SLURM_GPUS_ON_NODE:-1}
HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
RESUME=()
[ -d "$JOB_DIR/bundle.checkpoint" ] && RESUME=(--resume)
srun torchrun --nnodes "$SLURM_NNODES" --nproc_per_node "$GPUS" \\
  --rdzv_backend c10d --rdzv_endpoint "$HEAD:29500" --rdzv_id "$SLURM_JOB_ID" \\
  -m tagllm_torch train --job "$JOB_DIR" --model "$MODEL" --out "$JOB_DIR/bundle" \\
  --report "$JOB_DIR/report.json" --bf16 "\${RESUME[@]}" "$@"
`;
}
