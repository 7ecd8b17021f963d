// The columns a training file offers to the Train Function Tag wizard: a CSV/TSV header, the property
// names of an SDF's first record, or a FASTA file's sequence plus key=value fields of its first header.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidFileError } from '../runtime/errors';

export type DataFormat = 'csv' | 'tsv' | 'sdf' | 'fasta';

const headBytes = 64 * 1024;

export function dataFormatOf(file: string): DataFormat | null {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.sdf' || ext === '.sd') return 'sdf';
  if (['.fasta', '.fa', '.faa', '.fas'].includes(ext)) return 'fasta';
  return null;
}

function head(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(headBytes);
    const n = fs.readSync(fd, buffer, 0, headBytes, 0);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Splits one delimited line, honouring double quotes. */
export function splitDelimited(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

export function dataColumns(file: string): string[] {
  const format = dataFormatOf(file);
  if (!format) throw new InvalidFileError('not a CSV, TSV, SDF or FASTA file', file);
  const text = head(file).replace(/^\uFEFF/, '');
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  switch (format) {
    case 'csv':
    case 'tsv': {
      const columns = splitDelimited(firstLine, format === 'csv' ? ',' : '\t').filter((c) => c.length > 0);
      if (columns.length === 0) throw new InvalidFileError('the first line holds no column names', file);
      return columns;
    }
    case 'sdf': {
      const record = text.split(/^\$\$\$\$/m, 1)[0];
      return ['molecule', ...[...record.matchAll(/^>\s*<([^>]+)>/gm)].map((m) => m[1])];
    }
    case 'fasta': {
      if (!firstLine.startsWith('>')) throw new InvalidFileError('a FASTA file must start with a ">" header line', file);
      return ['sequence', ...[...firstLine.matchAll(/(\w+)=\S+/g)].map((m) => m[1])];
    }
  }
}
