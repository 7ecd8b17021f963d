// `tagllm generate`: continue a prompt (greedy or sampled, KV cache), or, with --tags, let a
// text-output function tag write for each input of a template (one input or a file of them,
// batched, the template's constant tag prefix computed once). Tokens of a plain prompt stream
// to stderr as they come; the outputs are the last stdout lines, one per input.
import type { CliCommand } from '../command';
import { CliUsageError, numberOption, requiredOption, stringOption, type ParsedArgs } from '../command';
import { loadModelOf } from '../modelArgument';
import { Tokenizer, asTokenIds } from '../../runtime/tokenizer/tokenizer';
import { escapeControl } from '../../runtime/safeText';
import { generateGreedy, type SamplingOptions } from '../../runtime/generate';
import { createTextGenerator } from '../../runtime/generateText';
import { readInputs } from './predict';

/** Inputs per generate() call, so outputs stream on long files. */
const CHUNK = 256;

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Continue a prompt, or write text with text-output function tags (KV cache)',
  help: [
    'Usage: tagllm generate --model PATH --prompt TEXT [--max-new-tokens N] [sampling]',
    '       tagllm generate --model PATH --tags BUNDLE[,BUNDLE] [--template NAME|TEXT] --input TEXT|FILE [--json] [sampling]',
    '',
    '  --model PATH          a GGUF file, a Hugging Face folder, repo id or URL (default: $TAGLLM_MODEL, else the default model)',
    '  --prompt TEXT         the text to continue (BOS is added when the model wants it)',
    '  --tags LIST           tag bundle folders, comma-separated; tags compose by name across bundles',
    '  --template T          the template the text-output tag writes in, e.g.',
    '                        "Input: <EN> {en} Output: <CS> <Translate> {cs}" (cut at its output slot);',
    '                        default: the template of the one text-output tag in the bundles',
    '  --input TEXT|FILE     one input, or a file: .csv/.tsv (columns named after the template slots) or one input per line',
    '  --json                with --tags: one JSON object per input ({input, output, tag})',
    '  --max-new-tokens N    at most N new tokens; stops earlier at EOS (default 32)',
    '  --temperature T       sample at temperature T (default: greedy decoding)',
    '  --top-p P             with --temperature: sample within the smallest set of tokens whose probability reaches P (default 1)',
    '  --seed N              with --temperature: the sampler\'s seed (default 0)',
    '  --batch N             with --tags: inputs per decoder run (default 16)',
    '',
    'The outputs (new tokens only) are the last lines of stdout, one per input; the execution',
    'provider and speed go to stderr.',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    prompt: { type: 'string' },
    tags: { type: 'string' },
    template: { type: 'string' },
    input: { type: 'string' },
    json: { type: 'boolean' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
  },
  async run(args, signal) {
    const maxNewTokens = numberOption(args, 'max-new-tokens', 32);
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new CliUsageError(`--max-new-tokens must be a positive integer, got ${maxNewTokens}`);
    const sampling = samplingOf(args);
    if (stringOption(args, 'tags') !== undefined) return generateWithTags(args, maxNewTokens, sampling, signal);
    const model = await loadModelOf(args, signal);
    const prompt = requiredOption(args, 'prompt');
    const tokenizer = Tokenizer.forModel(model);
    const stream = tokenizer.streamDecoder({ skipSpecialTokens: true });
    const started = performance.now();
    const result = await generateGreedy(model, tokenizer.encode(prompt), {
      maxNewTokens,
      signal,
      ...(sampling && { sampling }),
      // a model can emit any byte (byte-fallback tokens): escape all but the story's line breaks
      onStep: ([id]) => process.stderr.write(stream.push(asTokenIds([id])[0]).split('\n').map(escapeControl).join('\n')),
    });
    const ids = result.ids[0];
    const seconds = (performance.now() - started) / 1000;
    if (result.fallbackReason) process.stderr.write(`\n(${result.fallbackReason}; running on CPU)`);
    process.stderr.write(`\n[${ids.length} tokens, ${(ids.length / seconds).toFixed(1)} tokens/s, provider ${result.provider}]\n`);
    process.stdout.write(oneLine(tokenizer.decode(asTokenIds(ids), { skipSpecialTokens: true })) + '\n');
  },
};

async function generateWithTags(args: ParsedArgs, maxNewTokens: number, sampling: SamplingOptions | undefined, signal: AbortSignal): Promise<void> {
  if (stringOption(args, 'prompt') !== undefined) throw new CliUsageError('give --prompt (plain continuation) or --tags with --input, not both');
  const bundles = requiredOption(args, 'tags').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (bundles.length === 0) throw new CliUsageError('--tags needs at least one bundle folder');
  const template = stringOption(args, 'template');
  const batchSize = numberOption(args, 'batch', 16);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliUsageError(`--batch must be a positive integer, got ${batchSize}`);
  const model = await loadModelOf(args, signal);
  const generator = await createTextGenerator({ model, bundles });
  const inputs = readInputs(requiredOption(args, 'input'), generator.promptTemplate(template).slots);
  const started = performance.now();
  let tokens = 0;
  for (let at = 0; at < inputs.length; at += CHUNK) {
    const chunk = inputs.slice(at, at + CHUNK);
    // each chunk draws from its own seed (seed + its first row), so no two chunks repeat the same numbers
    const chunkSampling = sampling && { ...sampling, seed: sampling.seed + at };
    const outputs = await generator.generate(chunk, { maxNewTokens, batchSize, signal, ...(template !== undefined && { template }), ...(chunkSampling && { sampling: chunkSampling }) });
    outputs.forEach((out, i) => {
      tokens += out.ids.length;
      process.stdout.write(args.values.json === true ? JSON.stringify({ input: chunk[i], output: out.text, tag: out.tag }) + '\n' : oneLine(out.text) + '\n');
    });
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`[${inputs.length} input${inputs.length === 1 ? '' : 's'}, ${tokens} tokens, ${(tokens / seconds).toFixed(1)} tokens/s]\n`);
}

function samplingOf(args: ParsedArgs): SamplingOptions | undefined {
  const temperature = stringOption(args, 'temperature');
  if (temperature === undefined) {
    for (const flag of ['top-p', 'seed']) if (stringOption(args, flag) !== undefined) throw new CliUsageError(`--${flag} needs --temperature (sampling); without it decoding is greedy`);
    return undefined;
  }
  return { temperature: numberOption(args, 'temperature', 1), topP: numberOption(args, 'top-p', 1), seed: numberOption(args, 'seed', 0) };
}

/** Generated text as one terminal-safe line: line breaks as \\n, other control characters escaped. */
function oneLine(text: string): string {
  return escapeControl(text.replace(/\n/g, '\\n'));
}
