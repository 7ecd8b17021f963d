// `npm run demo`: the main job on the embedded defaults. Predicts the properties of the molecules
// in samples/molecules.smi with the default tag bundle (bundles/default, trained for stories260K).
// The model is $TAGLLM_MODEL; failing that, a checkout beside the shared offline data uses its
// copy; otherwise the CLI downloads the default model into its cache.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const env = { ...process.env };
if (!env.TAGLLM_MODEL) {
  const dataDir = env.TAGLLM_DATA_DIR ?? join(process.cwd(), '..', 'shared', 'data');
  const shared = join(dataDir, 'models', 'stories260K.gguf');
  if (existsSync(shared)) env.TAGLLM_MODEL = shared;
}
const args = ['dist/cli.js', 'predict', '--tags', 'bundles/default', '--input', 'samples/molecules.smi', ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
process.exit(r.status ?? 1);
