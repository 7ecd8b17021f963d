// `tagllm train --stage domain|function|cross ...`: learns tags on a data file, evaluates
// them on the test split beside the baselines, and writes a tag bundle. Progress lines go
// to stderr; the last stdout line is the report as one JSON object.
import type { CliCommand } from '../command';
import { CliUsageError, numberOption, stringOption } from '../command';
import { loadModelOf } from '../modelArgument';
import { parseTagName } from '../../runtime/tags/name';
import { TrainSession } from '../../runtime/session/trainSession';
import { runStage } from '../../runtime/train/stages';
import type { Stage } from '../../runtime/train/task';
import { sharedTrainHelp, sharedTrainOptions, stageOptionsOf } from './trainOptions';

const STAGES: readonly Stage[] = ['domain', 'function', 'cross'];

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Learn domain or function tags on a data file (the three Tag-LLM stages)',
  help: [
    'Usage: tagllm train --stage domain|function|cross --tag TAG --model PATH --data FILE [options]',
    '',
    '  --stage S             domain: a domain tag by next-token likelihood on unlabeled text;',
    '                        function: a function tag + linear head on one input column;',
    '                        cross: a function tag on several inputs (domain tags frozen)',
    '  --tag TAG             the tag to learn, e.g. "<SMILES>" (domain) or "<QED>" (function)',
    ...sharedTrainHelp,
    '  --freeze TAGS         tags that stay fixed (default: the domain tags in stage cross)',
    '  --p N                 vectors per new tag (default 10)',
    '  --lr X                peak learning rate of AdamW (default 0.001), cosine with 3% warm-up',
    '  --head-lr X           peak learning rate of the linear head (default: 0.1 × --lr)',
    '  --steps N | --epochs N  optimizer steps, or passes over the training rows (default 3 epochs,',
    '                        with early stopping on the validation split)',
    '  --out DIR             the tag bundle to write; checkpoints go to DIR.checkpoint',
    '  --resume              continue from DIR.checkpoint',
    '',
    'The last line of stdout is JSON: task, task_type (regression or classification), n_train,',
    'n_test, n_skipped, test (metrics), baselines, wall_s. Regression: rmse, mse, mae, pearson,',
    'spearman beside mean, linear_probe_last, linear_probe_mean, fingerprint_ridge|composition_ridge.',
    'Classification: auroc, auprc, accuracy (at 0.5), brier beside majority, logistic_probe_last,',
    'logistic_probe_mean, fingerprint_logistic|composition_logistic.',
  ].join('\n'),
  options: {
    ...sharedTrainOptions,
    stage: { type: 'string' },
    freeze: { type: 'string' },
    p: { type: 'string' },
    lr: { type: 'string' },
    'head-lr': { type: 'string' },
    steps: { type: 'string' },
    epochs: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
  },
  async run(args, signal) {
    const stage = (stringOption(args, 'stage') ?? 'function') as Stage;
    if (!STAGES.includes(stage)) throw new CliUsageError(`--stage must be one of ${STAGES.join(', ')}, got "${stage}"`);
    if (stage !== 'domain' && stringOption(args, 'tag') === undefined) throw new CliUsageError(`stage ${stage} needs --tag (the function tag, e.g. "<QED>")`);
    const resume = args.values.resume === true;
    const out = stringOption(args, 'out');
    if (resume && !out) throw new CliUsageError('--resume needs --out (the checkpoint is OUT.checkpoint)');
    const model = await loadModelOf(args, signal);
    const backend = await TrainSession.create(model);
    if (backend.fallbackReason) process.stderr.write(`(${backend.fallbackReason}; running on CPU)\n`);
    const optional = (name: string) => (stringOption(args, name) === undefined ? undefined : numberOption(args, name, 0));
    const freeze = stringOption(args, 'freeze');
    const report = await runStage({
      ...stageOptionsOf(args, stage, model, backend),
      ...(freeze !== undefined && { freeze: freeze.split(',').map((t) => parseTagName(t.trim(), '--freeze')) }),
      ...(optional('p') !== undefined && { p: optional('p') }),
      ...(optional('lr') !== undefined && { lr: optional('lr') }),
      ...(optional('head-lr') !== undefined && { headLr: optional('head-lr') }),
      ...(optional('steps') !== undefined && { steps: optional('steps') }),
      ...(optional('epochs') !== undefined && { epochs: optional('epochs') }),
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
