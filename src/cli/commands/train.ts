// `tagllm train --stage domain|function|cross ...`: learns tags on a data file, evaluates
// them on the test split beside the baselines, and writes a tag bundle. Progress lines go
// to stderr; the last stdout line is the report as one JSON object.
import type { CliCommand } from '../command';
import { CliUsageError, stringOption } from '../command';
import { loadModelOf } from '../modelArgument';
import { TrainSession } from '../../runtime/session/trainSession';
import { runStage } from '../../runtime/train/stages';
import { sharedTrainOptions, trainingRunHelp, trainingRunOf, trainingRunOptions } from './trainOptions';

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Learn domain or function tags on a data file (the three Tag-LLM stages)',
  help: [
    'Usage: tagllm train --stage domain|function|cross --tag TAG --model PATH --data FILE [options]',
    '',
    ...trainingRunHelp,
    '  --out DIR             the tag bundle to write; checkpoints go to DIR.checkpoint',
    '  --resume              continue from DIR.checkpoint',
    '',
    'The last line of stdout is JSON: task, n_train, n_test, n_skipped, test (metrics),',
    'baselines (mean, linear_probe_last, linear_probe_mean, fingerprint_ridge|composition_ridge), wall_s.',
  ].join('\n'),
  options: {
    ...sharedTrainOptions,
    ...trainingRunOptions,
    out: { type: 'string' },
    resume: { type: 'boolean' },
  },
  async run(args, signal) {
    const run = trainingRunOf(args);
    const resume = args.values.resume === true;
    const out = stringOption(args, 'out');
    if (resume && !out) throw new CliUsageError('--resume needs --out (the checkpoint is OUT.checkpoint)');
    const model = await loadModelOf(args, signal);
    const backend = await TrainSession.create(model);
    if (backend.fallbackReason) process.stderr.write(`(${backend.fallbackReason}; running on CPU)\n`);
    const report = await runStage({
      ...run,
      model,
      backend,
      ...(out !== undefined && { out }),
      resume,
      signal,
      onMessage: (text) => process.stderr.write(`${text}\n`),
      onProgress: (p) =>
        process.stderr.write(
          `step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${p.examplesPerSecond.toFixed(1)} examples/s` +
            (p.validationLoss !== undefined ? `  valid ${p.validationLoss.toFixed(4)}` : '') + '\n',
        ),
    });
    await backend.release();
    process.stdout.write(JSON.stringify(report) + '\n');
  },
};
