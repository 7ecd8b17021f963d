// `tagllm train --stage domain|function|cross ...`: learns tags on a data file, evaluates
// them on the test split beside the baselines, and writes a tag bundle. Progress lines go
// to stderr; the last stdout line is the report as one JSON object.
import type { CliCommand, ParsedArgs } from '../command';
import { CliUsageError, numberOption, requiredOption, stringOption } from '../command';
import { loadModelOf } from '../modelArgument';
import { parseTagName } from '../../runtime/tags/name';
import { TrainSession } from '../../runtime/session/trainSession';
import { readRecords } from '../../runtime/data/records';
import { runStage } from '../../runtime/train/stages';
import { runTextStage } from '../../runtime/train/textStage';
import type { Stage } from '../../runtime/train/task';
import type { TrainProgress } from '../../runtime/train/trainer';
import type { LoadedModel } from '../../runtime/model/description';
import { sharedTrainOptions, trainingRunHelp, trainingRunOf, trainingRunOptions } from './trainOptions';

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Learn domain or function tags on a data file (the three Tag-LLM stages)',
  help: [
    'Usage: tagllm train --stage domain|function|cross --tag TAG --model PATH --data FILE [options]',
    '',
    ...trainingRunHelp,
    '  --template TEXT       a text-output function tag (stages function, cross): the template ends with the tag',
    '                        and the column it learns to write, e.g. "Input: <EN> {en} Output: <DE> <Translate> {de}";',
    '                        repeat --template to train one tag on several (en->de and en->fr). Slots name --data\'s columns.',
    '                        Next-token loss on the output and EOS only; the report gives chrF and BLEU on the test',
    '                        split beside the untagged model (instruction, and 3-shot)',
    '  --test-rows N         with --template: score at most N test rows per template (default: all)',
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
    ...trainingRunOptions,
    out: { type: 'string' },
    resume: { type: 'boolean' },
    template: { type: 'string', multiple: true },
    'test-rows': { type: 'string' },
  },
  async run(args, signal) {
    const templates = (args.values.template as string[] | undefined) ?? [];
    const resume = args.values.resume === true;
    const out = stringOption(args, 'out');
    if (resume && !out) throw new CliUsageError('--resume needs --out (the checkpoint is OUT.checkpoint)');
    // Check the flags before loading a model.
    const run = templates.length > 0 ? undefined : trainingRunOf(args);
    const model = await loadModelOf(args, signal);
    const backend = await TrainSession.create(model);
    if (backend.fallbackReason) process.stderr.write(`(${backend.fallbackReason}; running on CPU)\n`);
    const onMessage = (text: string) => process.stderr.write(`${text}\n`);
    const report = run
      ? await runStage({ ...run, model, backend, ...(out !== undefined && { out }), resume, signal, onMessage, onProgress })
      : await trainTextTag(args, templates, model, backend, out, signal, onMessage);
    await backend.release();
    process.stdout.write(JSON.stringify(report) + '\n');
  },
};

function onProgress(p: TrainProgress): void {
  process.stderr.write(
    `step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${p.examplesPerSecond.toFixed(1)} examples/s` +
      (p.validationLoss !== undefined ? `  valid ${p.validationLoss.toFixed(4)}` : '') + '\n',
  );
}

/** A text-output function tag, learned from --template (one or several) on --data's columns. */
function trainTextTag(args: ParsedArgs, templates: string[], model: LoadedModel, backend: TrainSession, out: string | undefined, signal: AbortSignal, onMessage: (text: string) => void) {
  const stage = (stringOption(args, 'stage') ?? 'function') as Stage;
  if (stage !== 'function' && stage !== 'cross') throw new CliUsageError('--template trains a text-output function tag: use --stage function or cross');
  const optional = (name: string) => (stringOption(args, name) === undefined ? undefined : numberOption(args, name, 0));
  const freeze = stringOption(args, 'freeze');
  const data = requiredOption(args, 'data');
  const table = readRecords(data);
  const columns = table.columns.map((c) => c.trim().toLowerCase());
  return runTextStage({
    stage, model, backend, dataName: data, tasks: templates.map((template) => ({ template })),
    rows: table.rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i].trim()]))),
    ...(stringOption(args, 'tags') !== undefined && { startBundles: stringOption(args, 'tags')!.split(',').map((b) => b.trim()).filter((b) => b !== '') }),
    ...(freeze !== undefined && { freeze: freeze.split(',').map((t) => parseTagName(t.trim(), '--freeze')) }),
    ...(optional('p') !== undefined && { p: optional('p') }),
    ...(optional('lr') !== undefined && { lr: optional('lr') }),
    ...(optional('steps') !== undefined && { steps: optional('steps') }),
    ...(optional('epochs') !== undefined && { epochs: optional('epochs') }),
    ...(optional('batch') !== undefined && { batchSize: optional('batch') }),
    ...(optional('test-rows') !== undefined && { testRows: optional('test-rows') }),
    ...(out !== undefined && { out }),
    seed: numberOption(args, 'seed', 0), signal, onMessage, onProgress,
  });
}
