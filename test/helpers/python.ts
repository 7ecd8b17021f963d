// The project's Python (.venv, made by scripts/setup-python.sh) for checks against PyTorch,
// transformers and sacreBLEU. `npm test` creates it and sets TAGLLM_PYTHON; a missing
// interpreter is a test failure, never a silent skip.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export function pythonExecutable(): string {
  const python = process.env.TAGLLM_PYTHON ?? resolve(__dirname, '../../.venv/bin/python');
  if (!existsSync(python)) throw new Error(`no Python at ${python}; run scripts/setup-python.sh or set TAGLLM_PYTHON`);
  return python;
}
