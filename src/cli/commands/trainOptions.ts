// Flags shared by `tagllm train` and `tagllm eval`, turned into the library's StageOptions.
import type { OptionSpec, ParsedArgs } from '../command';
import { CliUsageError, numberOption, requiredOption, stringOption } from '../command';
import { inputKindOfDomain } from '../../runtime/data/examples';
import { parseTagName, type TagName } from '../../runtime/tags/name';
import type { StageDataOptions } from '../../runtime/train/stages';
import type { Stage } from '../../runtime/train/task';

export const sharedTrainOptions: OptionSpec = {
  model: { type: 'string' },
  data: { type: 'string' },
  tag: { type: 'string' },
  domain: { type: 'string' },
  'input-column': { type: 'string' },
  inputs: { type: 'string' },
  label: { type: 'string' },
  task: { type: 'string' },
  description: { type: 'string' },
  'dataset-name': { type: 'string' },
  'approved-drugs': { type: 'string' },
  tags: { type: 'string' },
  split: { type: 'string' },
  'valid-fold': { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  limit: { type: 'string' },
  sample: { type: 'string' },
  'max-length': { type: 'string' },
};

export const sharedTrainHelp = [
  '  --model PATH          a GGUF file, a Hugging Face folder, repo id or URL (default: $TAGLLM_MODEL, else the default model)',
  '  --data FILE           .csv/.tsv (header row), .smi, .fasta, .sdf, or one item per line',
  '  --domain TAGS         domain tag per input, comma-separated (default <SMILES>)',
  '  --input-column NAME   the input column (default: smiles, sequence or text, by domain)',
  '  --inputs A,B          several input columns (stage cross), one per --domain tag',
  '  --label COLUMN|NAME   a numeric column, or computed: qed, logp, tpsa, mw (SMILES);',
  '                        gravy, instability, pi, mw, aromaticity, charge (proteins)',
  '                        several columns, comma-separated: multi-label classification (empty = missing)',
  '  --task T              regression or classification (default: classification when every',
  '                        label is 0 or 1); a classification tag predicts probabilities',
  '  --description TEXT    what the function tag predicts, as it reads in its template',
  '  --dataset-name NAME   the data set\'s name in the stored evidence (default: the file name)',
  '  --approved-drugs FILE a CSV with smiles and FDA_APPROVED columns (ClinTox): stores the tag\'s',
  '                        predictions on the approved drugs, for percentiles',
  '  --tags BUNDLES        tag bundles to start from (comma-separated)',
  '  --split COL|FRACTION  a split column (train/valid/test; Davis folds), or the test and',
  '                        validation fraction of a seeded random split (default 0.1)',
  '  --valid-fold NAME     with a fold column: the fold that validates (e.g. train4)',
  '  --seed N              seed for the split and the example order (default 0)',
  '  --batch N             effective batch size (default 32)',
  '  --limit N             use only the first N usable rows',
  '  --sample N            use a seeded random sample of N usable rows (split column kept)',
  '  --max-length N        cut protein and text inputs to N characters; rows with a longer SMILES are skipped (default 512)',
];

function list(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

const DEFAULT_COLUMN: Record<string, string> = { smiles: 'smiles', protein: 'sequence', text: 'text' };

export function stageOptionsOf(args: ParsedArgs, stage: Stage): StageDataOptions {
  const tagFlag = stringOption(args, 'tag');
  const domainList = list(stringOption(args, 'domain'));
  const domains = (stage === 'domain' ? [tagFlag ?? domainList[0] ?? '<SMILES>'] : domainList.length > 0 ? domainList : ['<SMILES>']).map((d) => parseTagName(d, '--domain'));
  const inputsFlag = list(stringOption(args, 'inputs'));
  const columnFlag = stringOption(args, 'input-column');
  const inputColumns = inputsFlag.length > 0 ? inputsFlag : [columnFlag ?? DEFAULT_COLUMN[inputKindOfDomain(domains[0])]];
  if (inputColumns.length !== domains.length) {
    throw new CliUsageError(`${inputColumns.length} input column(s) (${inputColumns.join(', ')}) but ${domains.length} domain tag(s) (${domains.join(', ')}); give one --domain per input`);
  }
  const label = stringOption(args, 'label');
  const optionalNumber = (name: string) => (stringOption(args, name) === undefined ? undefined : numberOption(args, name, 0));
  const task = stringOption(args, 'task');
  if (task !== undefined && task !== 'regression' && task !== 'classification') throw new CliUsageError(`--task must be regression or classification, got "${task}"`);
  const functionTag = stage === 'domain' ? undefined : tagFlag === undefined ? undefined : parseTagName(tagFlag, '--tag');
  return {
    stage,
    data: requiredOption(args, 'data'),
    inputColumns,
    domains: domains as TagName[],
    ...(functionTag && { functionTag }),
    ...(label !== undefined && { label }),
    ...(task !== undefined && { task }),
    ...(stringOption(args, 'description') !== undefined && { description: stringOption(args, 'description') }),
    ...(stringOption(args, 'dataset-name') !== undefined && { datasetName: stringOption(args, 'dataset-name') }),
    ...(stringOption(args, 'approved-drugs') !== undefined && { approvedDrugs: stringOption(args, 'approved-drugs') }),
    ...(stringOption(args, 'split') !== undefined && { split: stringOption(args, 'split') }),
    ...(stringOption(args, 'valid-fold') !== undefined && { validFold: stringOption(args, 'valid-fold') }),
    startBundles: list(stringOption(args, 'tags')),
    seed: numberOption(args, 'seed', 0),
    ...(optionalNumber('batch') !== undefined && { batchSize: optionalNumber('batch') }),
    ...(optionalNumber('limit') !== undefined && { limit: optionalNumber('limit') }),
    ...(optionalNumber('sample') !== undefined && { sample: optionalNumber('sample') }),
    ...(optionalNumber('max-length') !== undefined && { maxInputLength: optionalNumber('max-length') }),
  };
}

/** Flags of a training run (`tagllm train`, `tagllm export-job`), beyond the data's. */
export const trainingRunOptions: OptionSpec = {
  stage: { type: 'string' },
  freeze: { type: 'string' },
  p: { type: 'string' },
  lr: { type: 'string' },
  'head-lr': { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
};

export const trainingRunHelp = [
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
];

const STAGES: readonly Stage[] = ['domain', 'function', 'cross'];

/** The run's data and training flags; checks --stage and --tag. */
export function trainingRunOf(args: ParsedArgs): StageDataOptions {
  const stage = (stringOption(args, 'stage') ?? 'function') as Stage;
  if (!STAGES.includes(stage)) throw new CliUsageError(`--stage must be one of ${STAGES.join(', ')}, got "${stage}"`);
  if (stage !== 'domain' && stringOption(args, 'tag') === undefined) throw new CliUsageError(`stage ${stage} needs --tag (the function tag, e.g. "<QED>")`);
  const optional = (name: string) => (stringOption(args, name) === undefined ? undefined : numberOption(args, name, 0));
  const freeze = stringOption(args, 'freeze');
  return {
    ...stageOptionsOf(args, stage),
    ...(freeze !== undefined && { freeze: freeze.split(',').map((t) => parseTagName(t.trim(), '--freeze')) }),
    ...(optional('p') !== undefined && { p: optional('p') }),
    ...(optional('lr') !== undefined && { lr: optional('lr') }),
    ...(optional('head-lr') !== undefined && { headLr: optional('head-lr') }),
    ...(optional('steps') !== undefined && { steps: optional('steps') }),
    ...(optional('epochs') !== undefined && { epochs: optional('epochs') }),
  };
}
