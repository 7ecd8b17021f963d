// `tagllm export-peft --model PATH --tags BUNDLE --out DIR`: a tag bundle as a PEFT
// TrainableTokens adapter over added tag tokens (src/runtime/tags/peft.ts), for transformers.
import type { CliCommand } from '../command';
import { requiredOption } from '../command';
import { loadModelOf } from '../modelArgument';
import { loadTagBundle } from '../../runtime/tags/bundleFiles';
import { modelFingerprint } from '../../runtime/tags/fingerprint';
import { exportPeftAdapter } from '../../runtime/tags/peft';

export const exportPeftCommand: CliCommand = {
  name: 'export-peft',
  summary: 'Write a tag bundle as a PEFT adapter (TrainableTokens over added tag tokens)',
  help: [
    'Usage: tagllm export-peft --model PATH --tags BUNDLE --out DIR',
    '',
    '  --model PATH  the bundle\'s base model (GGUF file or Hugging Face folder)',
    '  --tags DIR    the tag bundle',
    '  --out DIR     the adapter folder to write: adapter_config.json, adapter_model.safetensors,',
    '                tokenizer.json with the tag tokens <Tag>.0 … <Tag>.{p-1}, tagllm.json',
    '',
    'In transformers: model.resize_token_embeddings(len(tokenizer)); PeftModel.from_pretrained(model, DIR).',
    'The last stdout line is JSON: the tokens of each tag and their ids.',
  ].join('\n'),
  options: { model: { type: 'string' }, tags: { type: 'string' }, out: { type: 'string' } },
  async run(args, signal) {
    const out = requiredOption(args, 'out');
    const model = await loadModelOf(args, signal);
    const { bundle } = await loadTagBundle(requiredOption(args, 'tags'), modelFingerprint(model));
    const result = await exportPeftAdapter(model, bundle, out);
    process.stdout.write(JSON.stringify({ out, ...result }) + '\n');
  },
};
