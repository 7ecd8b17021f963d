// `tagllm eval --model M --tags BUNDLE --data FILE ...`: scores a trained function tag on the
// test split of a data file, with the same baselines and the same JSON report as `train`.
import type { CliCommand } from '../command';
import { CliUsageError, requiredOption, stringOption } from '../command';
import { loadModelOf } from '../modelArgument';
import { loadTagBundle } from '../../runtime/tags/bundleFiles';
import { modelFingerprint } from '../../runtime/tags/fingerprint';
import { parseTagName, type TagName } from '../../runtime/tags/name';
import { TrainSession } from '../../runtime/session/trainSession';
import { runStage } from '../../runtime/train/stages';
import { sharedTrainHelp, sharedTrainOptions, stageOptionsOf } from './trainOptions';

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'Evaluate a function tag on a data file, beside the baselines',
  help: [
    'Usage: tagllm eval --model PATH --tags BUNDLE --data FILE [--tag TAG] [options]',
    '',
    '  --tag TAG             the function tag to score (default: the bundles\' only function tag)',
    ...sharedTrainHelp,
    '',
    'Metrics are computed on the test split (the same seeded split as `train` with the same',
    '--split and --seed); the label defaults to the head\'s output names. A classification tag',
    'is scored on its probabilities (auroc, auprc, accuracy, brier). The last line of stdout is',
    'the JSON report.',
  ].join('\n'),
  options: sharedTrainOptions,
  async run(args, signal) {
    const model = await loadModelOf(args, signal);
    const bundlePaths = requiredOption(args, 'tags').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    const fingerprint = modelFingerprint(model);
    const bundles = await Promise.all(bundlePaths.map((b) => loadTagBundle(b, fingerprint)));
    const functionTags = bundles.flatMap((b) => Object.entries(b.bundle.meta.tags).filter(([name, t]) => t.kind === 'function' && b.bundle.heads.has(name as TagName)));
    const tagFlag = stringOption(args, 'tag');
    const chosen = tagFlag !== undefined ? functionTags.find(([name]) => name === parseTagName(tagFlag, '--tag')) : functionTags.length === 1 ? functionTags[0] : undefined;
    if (!chosen) {
      throw new CliUsageError(
        tagFlag !== undefined ? `no bundle holds function tag ${tagFlag} with a head` : `the bundles hold ${functionTags.length} function tags (${functionTags.map(([n]) => n).join(', ')}); pick one with --tag`,
      );
    }
    const [tag, meta] = chosen;
    const backend = await TrainSession.create(model);
    const options = { ...stageOptionsOf({ ...args, values: { ...args.values, tag } }, 'function'), model, backend };
    const report = await runStage({
      ...options,
      stage: options.inputColumns.length > 1 ? 'cross' : 'function',
      functionTag: tag as TagName,
      label: options.label ?? meta.outputs!.map((o) => o.name).join(','),
      task: meta.task ?? 'regression',
      evaluateOnly: true,
      signal,
      onMessage: (text) => process.stderr.write(`${text}\n`),
    });
    await backend.release();
    process.stdout.write(JSON.stringify(report) + '\n');
  },
};
