// Writing files so that a reader sees either the old file or the complete new one, never a
// partial write: write a temporary file in the same folder (same filesystem, so rename is
// atomic), flush it to disk, then rename it over the target.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A unique sibling name for temporary output next to `path` (hidden, so tools ignore it). */
export function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Runs `write` against a temporary file, fsyncs it and renames it to `path`; removes it on failure. */
export async function writeFileAtomic(path: string, write: (file: FileHandle) => Promise<void>): Promise<void> {
  const tmp = temporarySibling(path);
  const file = await open(tmp, 'wx');
  try {
    await write(file);
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes several chunks of bytes (e.g. a header, then each tensor) as one atomic file. */
export async function writeBytesAtomic(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  await writeFileAtomic(path, async (file) => {
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.length) done += (await file.write(chunk, done, chunk.length - done)).bytesWritten;
    }
  });
}
