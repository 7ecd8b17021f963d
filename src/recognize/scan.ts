// The recognizer's entry points: a document's text by file name, a notebook, a file on disk.
// Files are checked before they are read or decoded: too large, binary or not UTF-8 means a
// result that says so, never a crash or a long stall.
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { judgeScan, loadSmilesJudge, type SmilesJudge } from './rdkitJudge';
import { scanText, scanTextAsync } from './textScanner';
import { scanNotebook } from './notebook';
import { UnsupportedError } from '../runtime/errors';
import type { Entity, FileScan, RejectedCandidate, TextFormat } from './types';

/** Files above this size are skipped unread. */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

const FORMAT_BY_EXTENSION: Record<string, TextFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.smi': 'smi',
  '.smiles': 'smi',
  '.fasta': 'fasta',
  '.fa': 'fasta',
  '.faa': 'fasta',
  '.fas': 'fasta',
  '.sdf': 'sdf',
  '.sd': 'sdf',
};

/** The layout of a document from its file name, or its VS Code language id for untitled ones. Notebook cells are plain text. */
export function formatOf(fileName: string, languageId?: string): TextFormat {
  const byName = FORMAT_BY_EXTENSION[extname(fileName).toLowerCase()];
  if (byName) return byName;
  if (languageId === 'csv' || languageId === 'tsv') return languageId;
  if (languageId === 'fasta') return 'fasta';
  return 'text';
}

/**
 * Entities in a document's text (an editor buffer or a notebook cell), scanned in chunks that
 * yield to the event loop. A text over the file cap is refused with an error that says so.
 */
export async function scanDocument(text: string, fileName: string, languageId?: string, signal?: AbortSignal): Promise<Entity[]> {
  // Characters, not bytes: a cheap bound that never undercounts the UTF-8 size by more than 3x.
  if (text.length > MAX_FILE_BYTES) throw new UnsupportedError(`too large to scan (${mb(text.length)} M characters; the cap is ${mb(MAX_FILE_BYTES)} MB)`, fileName);
  const judge = await loadSmilesJudge();
  return judgeScan(judge, () => scanTextAsync(text, formatOf(fileName, languageId), judge, signal));
}

export async function scanFile(path: string, judge?: SmilesJudge): Promise<FileScan> {
  const skipped = (reason: string): FileScan => ({ path, entities: [], skipped: reason });
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    return skipped(`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!info.isFile()) return skipped('not a regular file');
  if (info.size > MAX_FILE_BYTES) return skipped(`too large (${mb(info.size)} MB; the cap is ${mb(MAX_FILE_BYTES)} MB)`);
  const bytes = await readFile(path);
  const nul = bytes.indexOf(0);
  if (nul >= 0) return skipped(`binary file (NUL byte at offset ${nul})`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return skipped('not valid UTF-8');
  }
  judge ??= await loadSmilesJudge();
  const j = judge;
  const trapsBefore = j.trapped.length;
  const scan = await judgeScan(j, (): FileScan => {
    if (extname(path).toLowerCase() !== '.ipynb') return { path, entities: scanText(text, formatOf(path), j) };
    const nb = scanNotebook(text, j);
    return nb.skipped === undefined ? { path, entities: nb.entities } : skipped(nb.skipped);
  });
  const trapped = j.trapped.slice(trapsBefore);
  return trapped.length && scan.skipped === undefined ? { ...scan, rejected: trapped.map((t) => rejectedAt(text, t)) } : scan;
}

/** Where a candidate that trapped RDKit first occurs in the text. */
function rejectedAt(text: string, candidate: string): RejectedCandidate {
  const at = Math.max(0, text.indexOf(candidate));
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  return { text: candidate, line, character: at - (before.lastIndexOf('\n') + 1) };
}

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
