// Training checkpoints: a folder holding the trainer's state (trainer.json), every tensor it
// needs to continue — current and best parameters, AdamW moments — (state.safetensors), and
// the current tags as a loadable tag bundle (bundle/). The folder is written atomically, so a
// killed run leaves the previous complete checkpoint.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InvalidFileError } from '../errors';
import { writeFolderAtomic } from '../fs/atomicWrite';
import type { F32Tensor } from '../model/description';
import { readSafetensors } from '../model/safetensors/read';
import { writeSafetensors } from '../model/safetensors/write';
import { saveTagBundle } from '../tags/bundleFiles';
import type { TagBundle } from '../tags/bundle';

import { CHECKPOINT_STATE } from './checkpointPaths';

export { CHECKPOINT_STATE, checkpointFolderFor } from './checkpointPaths';
export const CHECKPOINT_TENSORS = 'state.safetensors';
export const CHECKPOINT_BUNDLE = 'bundle';

export interface Checkpoint<S> {
  readonly state: S;
  readonly tensors: ReadonlyMap<string, Float32Array>;
}


export async function saveCheckpoint<S>(dir: string, checkpoint: Checkpoint<S>, bundle?: TagBundle): Promise<void> {
  const target = resolve(dir);
  await mkdir(dirname(target), { recursive: true });
  await writeFolderAtomic(target, async (tmp) => {
    const tensors = new Map<string, F32Tensor>();
    for (const [name, data] of checkpoint.tensors) tensors.set(name, { shape: [data.length], data });
    await writeSafetensors(join(tmp, CHECKPOINT_TENSORS), tensors);
    if (bundle) await saveTagBundle(join(tmp, CHECKPOINT_BUNDLE), bundle);
    await writeFile(join(tmp, CHECKPOINT_STATE), JSON.stringify(checkpoint.state) + '\n', { flag: 'wx' });
  });
}

export async function loadCheckpoint<S>(dir: string): Promise<Checkpoint<S>> {
  const statePath = join(dir, CHECKPOINT_STATE);
  let state: S;
  try {
    state = JSON.parse(await readFile(statePath, 'utf8')) as S;
  } catch (err) {
    throw new InvalidFileError(`cannot read the training checkpoint (${(err as Error).message})`, statePath);
  }
  const { tensors } = await readSafetensors(join(dir, CHECKPOINT_TENSORS));
  return { state, tensors: new Map([...tensors].map(([k, t]) => [k, t.data])) };
}
