// `tagllm export-hf --model FILE.gguf --out DIR`: write a model as a Hugging Face folder
// (float32 safetensors, config.json, tokenizer.json) that transformers can load.
import type { CliCommand } from '../command';
import { requiredOption } from '../command';
import { loadModel } from '../../runtime/model/load';
import { exportHfFolder } from '../../runtime/model/hf/export';

export const exportHfCommand: CliCommand = {
  name: 'export-hf',
  summary: 'Write a GGUF model as a Hugging Face folder (safetensors, config.json, tokenizer.json)',
  help: [
    'Usage: tagllm export-hf --model FILE.gguf --out DIR',
    '',
    '  --model PATH  the model to export: a GGUF file (quantized tensors are written as float32)',
    '  --out DIR     the folder to create; it must not exist or be empty',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    out: { type: 'string' },
  },
  async run(args, signal) {
    const spec = requiredOption(args, 'model');
    const out = requiredOption(args, 'out');
    const model = await loadModel(spec, { signal });
    await exportHfFolder(model, out);
    process.stdout.write(`${out}\n`);
  },
};
