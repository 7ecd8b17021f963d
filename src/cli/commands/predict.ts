// `tagllm predict --model PATH --tags BUNDLE[,BUNDLE] [--template NAME|TEXT] --input TEXT|FILE [--json]`:
// property predictions from tag bundles, one input or a file of them.
import { existsSync, statSync } from 'node:fs';
import type { CliCommand } from '../command';
import { CliUsageError, requiredOption, stringOption } from '../command';
import { loadModelOf, modelSpecOf } from '../modelArgument';
import { readRecords } from '../../runtime/data/records';
import { createPredictor, type Prediction, type Predictor, type PredictOptions } from '../../runtime/predict';
import { NAMED_TEMPLATES, type SlotValues } from '../../runtime/tags/template';

/** Inputs per predict() call: output streams, memory stays flat on long files. */
const CHUNK = 256;

export const predictCommand: CliCommand = {
  name: 'predict',
  summary: 'Predict properties with the function tags of tag bundles',
  help: [
    'Usage: tagllm predict --model PATH --tags BUNDLE[,BUNDLE...] --input TEXT|FILE [--template NAME|TEXT] [--json]',
    '',
    '  --model PATH        a GGUF file, a Hugging Face folder, repo id or URL (default: $TAGLLM_MODEL, else the default model)',
    '  --tags LIST         tag bundle folders, comma-separated; tags compose by name',
    '  --input TEXT|FILE   one input, or a file: .csv/.tsv (columns named after the template slots,',
    '                      e.g. smiles, seq), .smi (first column), .fasta, or one input per line',
    '  --template T        a template name or text; default: each function tag\'s own template.',
    `                      Names: ${Object.keys(NAMED_TEMPLATES).join(', ')}`,
    '  --json              one JSON object per input instead of a tab-separated table',
    '',
    'Every function tag whose template the input fills is predicted, in the units the bundle records;',
    'a classification tag prints probabilities. Where the bundle records them (format 3), each value',
    'has its percentile among approved drugs and flags (outside-domain, outside-training-range,',
    'outside-bounds); --json adds the tag\'s evidence (test metric beside its baselines) and the',
    'nearest training similarity.',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    tags: { type: 'string' },
    template: { type: 'string' },
    input: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, signal) {
    const modelPath = modelSpecOf(args);
    const bundlePaths = requiredOption(args, 'tags').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (bundlePaths.length === 0) throw new CliUsageError('--tags needs at least one bundle folder');
    const input = requiredOption(args, 'input');
    const template = stringOption(args, 'template');
    const json = args.values.json === true;

    const model = await loadModelOf(args, signal);
    const predictor = await createPredictor({ model, bundles: bundlePaths });
    const options: PredictOptions = { signal, ...(template !== undefined && { template }) };
    const inputs = readInputs(input, predictor.inputSlots(options));
    if (predictor.fallbackReason) process.stderr.write(`(${predictor.fallbackReason}; running on CPU)\n`);
    process.stderr.write(`[model ${modelPath}, provider ${predictor.provider}, ${inputs.length} input${inputs.length === 1 ? '' : 's'}]\n`);

    if (!json) process.stdout.write(tableRow(['input', 'tag', 'value', 'units', 'bundle', 'percentile', 'flags']));
    for (let at = 0; at < inputs.length; at += CHUNK) {
      const chunk = inputs.slice(at, at + CHUNK);
      const results = await predictor.predict(chunk, options);
      chunk.forEach((values, i) => process.stdout.write(json ? jsonLine(values, results[i], modelPath, predictor) : tableRows(values, results[i])));
    }
  },
};

/** --input as one value for the templates' single slot, or a file of rows keyed by slot. */
export function readInputs(input: string, slots: readonly string[]): SlotValues[] {
  const isFile = existsSync(input) && statSync(input).isFile();
  if (!isFile) {
    if (slots.length !== 1) throw new CliUsageError(`the templates read ${slots.map((s) => `{${s}}`).join(', ')}; give --input a CSV file with those columns`);
    return [{ [slots[0]]: input }];
  }
  const table = readRecords(input);
  const columns = table.columns.map((c) => c.trim().toLowerCase());
  const rows = table.rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i].trim()])));
  // A one-item-per-line file (column `text`) or a FASTA file (column `sequence`) feeds a single slot.
  const single = slots.length === 1 ? slots[0] : undefined;
  const source = single && !columns.includes(single) ? ['sequence', 'text'].find((c) => columns.includes(c)) : undefined;
  const missing = slots.filter((s) => !columns.includes(s) && !(s === single && source));
  if (missing.length > 0) throw new CliUsageError(`${input} has no ${missing.map((s) => `"${s}"`).join(', ')} column (columns: ${table.columns.join(', ')})`);
  return rows.map((row) => (source ? { ...row, [single!]: row[source] } : row));
}

function jsonLine(input: SlotValues, predictions: readonly Prediction[], model: string, predictor: Predictor): string {
  return JSON.stringify({ input, predictions, model, provider: predictor.provider }) + '\n';
}

function tableRows(input: SlotValues, predictions: readonly Prediction[]): string {
  const shown = Object.values(input).join(' + ');
  const label = shown.length > 40 ? `${shown.slice(0, 39)}…` : shown;
  if (predictions.length === 0) return tableRow([label, '-', 'no function tag applies', '', '', '', '']);
  return predictions.map((p) => tableRow([label, p.tag, p.value.toPrecision(6), p.units, p.bundle, p.percentile === undefined ? '' : p.percentile.toFixed(1), p.flags.join(';')])).join('');
}

function tableRow(cells: readonly string[]): string {
  return cells.join('\t') + '\n';
}
