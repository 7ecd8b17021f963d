// `tagllm generate --model PATH --prompt TEXT --max-new-tokens N`: greedy continuation with a
// KV cache. Tokens stream to stderr as they come; the continuation alone is the last stdout line.
import type { CliCommand } from '../command';
import { CliUsageError, numberOption, requiredOption } from '../command';
import { loadModelOf } from '../modelArgument';
import { Tokenizer, asTokenIds } from '../../runtime/tokenizer/tokenizer';
import { escapeControl } from '../../runtime/safeText';
import { generateGreedy } from '../../runtime/generate';

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Continue a prompt with greedy decoding (KV cache)',
  help: [
    'Usage: tagllm generate --model PATH --prompt TEXT [--max-new-tokens N]',
    '',
    '  --model PATH          a GGUF file, a Hugging Face folder, repo id or URL (default: $TAGLLM_MODEL, else the default model)',
    '  --prompt TEXT         the text to continue (BOS is added when the model wants it)',
    '  --max-new-tokens N    at most N new tokens; stops earlier at EOS (default 32)',
    '',
    'The decoded continuation (new tokens only) is the last line of stdout; the execution',
    'provider and speed go to stderr.',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    prompt: { type: 'string' },
    'max-new-tokens': { type: 'string' },
  },
  async run(args, signal) {
    const model = await loadModelOf(args, signal);
    const prompt = requiredOption(args, 'prompt');
    const maxNewTokens = numberOption(args, 'max-new-tokens', 32);
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new CliUsageError(`--max-new-tokens must be a positive integer, got ${maxNewTokens}`);
    const tokenizer = Tokenizer.forModel(model);
    const stream = tokenizer.streamDecoder({ skipSpecialTokens: true });
    const started = performance.now();
    const result = await generateGreedy(model, tokenizer.encode(prompt), {
      maxNewTokens,
      signal,
      // a model can emit any byte (byte-fallback tokens): escape all but the story's line breaks
      onStep: ([id]) => process.stderr.write(stream.push(asTokenIds([id])[0]).split('\n').map(escapeControl).join('\n')),
    });
    const ids = result.ids[0];
    const seconds = (performance.now() - started) / 1000;
    if (result.fallbackReason) process.stderr.write(`\n(${result.fallbackReason}; running on CPU)`);
    process.stderr.write(`\n[${ids.length} tokens, ${(ids.length / seconds).toFixed(1)} tokens/s, provider ${result.provider}]\n`);
    process.stdout.write(escapeControl(tokenizer.decode(asTokenIds(ids), { skipSpecialTokens: true })) + '\n');
  },
};
