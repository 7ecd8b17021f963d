// Where a training checkpoint lives, on its own so that the extension host can ask whether a run
// can be resumed without loading the checkpoint code (safetensors, bundles).
import { join, resolve } from 'node:path';

export const CHECKPOINT_STATE = 'trainer.json';

/** The checkpoint folder that goes with an output bundle folder. */
export function checkpointFolderFor(outBundle: string): string {
  return `${resolve(outBundle)}.checkpoint`;
}

/** The file whose presence means the checkpoint beside `outBundle` is complete (folders are written atomically). */
export function checkpointStateFileFor(outBundle: string): string {
  return join(checkpointFolderFor(outBundle), CHECKPOINT_STATE);
}
