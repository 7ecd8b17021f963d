// `tagllm import-peft --model PATH --adapter DIR --out BUNDLE`: a PEFT TrainableTokens adapter
// (one `tagllm export-peft` wrote, or tags trained with PEFT) as a tag bundle.
import type { CliCommand } from '../command';
import { requiredOption } from '../command';
import { loadModelOf } from '../modelArgument';
import { saveTagBundle } from '../../runtime/tags/bundleFiles';
import { importPeftAdapter } from '../../runtime/tags/peft';

export const importPeftCommand: CliCommand = {
  name: 'import-peft',
  summary: 'Read a PEFT TrainableTokens adapter over tag tokens as a tag bundle',
  help: [
    'Usage: tagllm import-peft --model PATH --adapter DIR --out BUNDLE',
    '',
    '  --model PATH   the adapter\'s base model (GGUF file or Hugging Face folder)',
    '  --adapter DIR  the adapter folder (adapter_config.json, adapter_model.safetensors, tokenizer.json)',
    '  --out BUNDLE   the tag bundle folder to write',
    '',
    'An adapter written by export-peft comes back bit for bit, heads included; tags trained with PEFT',
    'on tokens named <Tag>.0 … <Tag>.{p-1} import as domain tags.',
  ].join('\n'),
  options: { model: { type: 'string' }, adapter: { type: 'string' }, out: { type: 'string' } },
  async run(args, signal) {
    const out = requiredOption(args, 'out');
    const model = await loadModelOf(args, signal);
    const bundle = await importPeftAdapter(model, requiredOption(args, 'adapter'));
    await saveTagBundle(out, bundle);
    process.stdout.write(`${out}\n`);
  },
};
