// Writing files so that a reader sees either the old file or the complete new one, never a
// partial write: write a temporary file in the same folder (same filesystem, so rename is
// atomic), flush it to disk, then rename it over the target.
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
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

/**
 * Builds a folder with `fill` in a temporary sibling, then puts it in place of `path`:
 * a reader sees the old complete folder or the new one. rename() cannot replace a non-empty
 * folder, so the old one is moved aside first and removed after.
 */
export async function writeFolderAtomic(path: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = temporarySibling(path);
  try {
    await mkdir(tmp);
    await fill(tmp);
    const old = existsSync(path) ? temporarySibling(path) : undefined;
    if (old) await rename(path, old);
    await rename(tmp, path);
    if (old) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
