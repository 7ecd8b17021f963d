// `tagllm export-job ... --out DIR`: the data and settings of a `tagllm train` run as a job
// folder for the PyTorch companion (python/): job.json, data.csv, start bundles, and launch
// scripts for torchrun and Slurm. The last stdout line is job.json's content as one JSON object.
import type { CliCommand } from '../command';
import { requiredOption } from '../command';
import { loadModelOf } from '../modelArgument';
import { exportTrainingJob } from '../../runtime/train/exportJob';
import { sharedTrainOptions, trainingRunHelp, trainingRunOf, trainingRunOptions } from './trainOptions';

export const exportJobCommand: CliCommand = {
  name: 'export-job',
  summary: 'Write a training run as a job folder for PyTorch (torchrun, Slurm): data, config, launch scripts',
  help: [
    'Usage: tagllm export-job --stage domain|function|cross --tag TAG --model PATH --data FILE --out DIR [options]',
    '',
    'Takes the options of `tagllm train`; the rows are read, labelled and split here, as train would.',
    ...trainingRunHelp,
    '  --out DIR             the job folder to create (it must not exist, or be empty)',
    '',
    'Run it with the PyTorch companion: MODEL=HF_FOLDER DIR/train-torchrun.sh, or sbatch DIR/train-slurm.sbatch',
    '(docs/python-companion.md).',
  ].join('\n'),
  options: {
    ...sharedTrainOptions,
    ...trainingRunOptions,
    out: { type: 'string' },
  },
  async run(args, signal) {
    const run = trainingRunOf(args);
    const out = requiredOption(args, 'out');
    const model = await loadModelOf(args, signal);
    const { job } = await exportTrainingJob({ ...run, model, out }, (text) => process.stderr.write(`${text}\n`));
    process.stdout.write(JSON.stringify(job) + '\n');
  },
};
