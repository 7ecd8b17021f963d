// Any supported data file as one table of string fields, so the example loader does not
// care where the rows came from:
// - .csv / .tsv / .tab: the header names the columns;
// - .fasta / .fa / .faa: columns id, description, sequence;
// - .sdf / .sd: the data fields plus `molblock`;
// - anything else (.smi, .txt): one item per line, column `text` (and `smiles` for .smi,
//   whose lines may carry a name after whitespace).
import { readFileSync, statSync } from 'node:fs';
import { InvalidFileError } from '../errors';
import { parseDelimited, type Table } from './delimited';
import { parseFasta } from './fasta';
import { parseSdf } from './sdf';

/** Largest data file read into memory; bigger files are almost certainly a mistake here. */
const MAX_BYTES = 1 << 30;

export function readText(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new InvalidFileError('cannot read the file (does it exist?)', path);
  }
  if (size > MAX_BYTES) throw new InvalidFileError(`${size} bytes is more than the ${MAX_BYTES}-byte limit for a data file`, path);
  return readFileSync(path, 'utf8');
}

export function readRecords(path: string): Table {
  const text = readText(path);
  if (/\.(csv|tsv|tab)$/i.test(path)) return parseDelimited(text, path);
  if (/\.(fasta|fa|faa)$/i.test(path)) {
    const records = parseFasta(text, path);
    return { columns: ['id', 'description', 'sequence'], rows: records.map((r) => [r.id, r.description, r.sequence]), lines: records.map((r) => r.line) };
  }
  if (/\.(sdf|sd)$/i.test(path)) {
    const records = parseSdf(text);
    if (records.length === 0) throw new InvalidFileError('no SD records (no "$$$$" line)', path);
    const names = [...new Set(records.flatMap((r) => [...r.properties.keys()]))];
    return {
      columns: ['molblock', ...names],
      rows: records.map((r) => [r.molblock, ...names.map((n) => r.properties.get(n) ?? '')]),
      lines: records.map((r) => r.line),
    };
  }
  const rows: string[][] = [];
  const lines: number[] = [];
  const smi = /\.smi$/i.test(path);
  text.split(/\r?\n/).forEach((raw, k) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    rows.push(smi ? [line.split(/\s+/)[0]] : [line]);
    lines.push(k + 1);
  });
  if (rows.length === 0) throw new InvalidFileError('the file has no non-empty lines', path);
  return { columns: [smi ? 'smiles' : 'text'], rows, lines };
}
