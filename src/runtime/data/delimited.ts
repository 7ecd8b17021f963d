// CSV and TSV tables (RFC 4180 quoting: fields in double quotes may hold the delimiter,
// newlines and doubled quotes). Structural faults — an unterminated quote, a row with the
// wrong number of fields — are errors naming the file and line; bad values are left for
// the example loader to skip.
import { InvalidFileError } from '../errors';

export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** 1-based line in the file where each row starts. */
  readonly lines: readonly number[];
}

export function delimiterFor(path: string, firstLine: string): string {
  if (/\.(tsv|tab)$/i.test(path)) return '\t';
  if (/\.csv$/i.test(path)) return ',';
  return firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : ',';
}

export function parseDelimited(text: string, path: string, delimiter = delimiterFor(path, text.split('\n', 1)[0])): Table {
  const records: string[][] = [];
  const starts: number[] = [];
  let field = '';
  let record: string[] = [];
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    record.push(field);
    field = '';
    // blank lines carry no record
    if (!(record.length === 1 && record[0] === '')) {
      records.push(record);
      starts.push(recordLine);
    }
    record = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === delimiter) {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += ch;
    }
  }
  if (quoted) throw new InvalidFileError(`line ${recordLine}: a quoted field is never closed`, path);
  if (field !== '' || record.length > 0) endRecord();
  if (records.length === 0) throw new InvalidFileError('the file is empty (no header row)', path);
  const columns = records[0].map((c) => c.trim());
  const rows = records.slice(1);
  rows.forEach((r, k) => {
    if (r.length !== columns.length)
      throw new InvalidFileError(`line ${starts[k + 1]}: ${r.length} fields, but the header has ${columns.length}${delimiterHint(text, delimiter)}`, path);
  });
  return { columns, rows, lines: starts.slice(1) };
}

const DELIMITER_NAMES: ReadonlyMap<string, string> = new Map([
  [',', 'commas'],
  ['\t', 'tabs'],
  [';', 'semicolons'],
  ['|', 'vertical bars'],
]);

/** When the header splits into more columns on another common delimiter, say so: the field count alone does not tell. */
function delimiterHint(text: string, used: string): string {
  const header = text.split('\n', 1)[0];
  const usedColumns = header.split(used).length;
  for (const [d, name] of DELIMITER_NAMES) {
    if (d !== used && header.split(d).length > usedColumns) {
      return `; the file looks separated by ${name}, but it is read as separated by ${DELIMITER_NAMES.get(used)} (from its extension or first line)`;
    }
  }
  return '';
}
