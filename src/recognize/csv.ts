// CSV and TSV with column awareness. A column headed smiles or sequence (or, with no such
// header, one whose sampled cells are nearly all SMILES or sequences) is judged cell by cell
// with table thresholds; other cells are scanned like any text. The parser is written here,
// not taken from a library, because the scanner needs each cell's offsets in the source
// text, and quoted cells ("" escapes) must map back to them. Unlike RFC 4180, a quoted cell
// ends at the end of its line: a stray quote then spoils one row, not the rest of the file,
// and every row can be rescanned on its own after an edit.
import { judgeCell, roleFromHeader, type ColumnRole } from './cells';
import { smilesShape } from './smilesSyntax';
import type { Hit, ScanEnv } from './hits';

interface Cell {
  /** Offsets of the cell's content, quotes excluded. */
  readonly start: number;
  readonly end: number;
}

interface Row {
  readonly cells: Cell[];
  /** Offset where the next row starts (past the line break), or the text length. */
  readonly next: number;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

function parseRow(text: string, pos: number, delimiter: number): Row {
  const cells: Cell[] = [];
  const n = text.length;
  for (;;) {
    let start = pos;
    let end: number;
    if (text.charCodeAt(pos) === QUOTE) {
      start = ++pos;
      for (;;) {
        if (pos >= n || text.charCodeAt(pos) === LF || text.charCodeAt(pos) === CR) {
          end = pos;
          break;
        }
        if (text.charCodeAt(pos) === QUOTE) {
          if (text.charCodeAt(pos + 1) === QUOTE) pos += 2;
          else {
            end = pos++;
            break;
          }
        } else pos++;
      }
      // Anything between the closing quote and the delimiter is malformed; skip it.
      while (pos < n && text.charCodeAt(pos) !== delimiter && text.charCodeAt(pos) !== LF && text.charCodeAt(pos) !== CR) pos++;
    } else {
      while (pos < n) {
        const c = text.charCodeAt(pos);
        if (c === delimiter || c === LF || c === CR) break;
        pos++;
      }
      end = pos;
    }
    cells.push({ start, end });
    const c = text.charCodeAt(pos);
    if (c === delimiter) {
      pos++;
      continue;
    }
    if (c === CR && text.charCodeAt(pos + 1) === LF) pos += 2;
    else if (pos < n) pos++;
    return { cells, next: pos };
  }
}

export interface TableLayout {
  /** Same key, same reading of every row. */
  readonly key: string;
  readonly delimiter: number;
  readonly roles: readonly ColumnRole[];
  /** True when line 0 is a header row (not scanned). */
  readonly hasHeader: boolean;
}

const SAMPLE_ROWS = 20;
const INFER_SHARE = 0.8;

export function tableLayout(env: ScanEnv, delimiter: number): TableLayout {
  const header = parseRow(env.text, 0, delimiter);
  const named = header.cells.map((c) => roleFromHeader(env.text.slice(c.start, c.end)));
  if (named.some((r) => r !== 'other')) return { key: `true:${named.join(',')}`, delimiter, roles: named, hasHeader: true };
  const roles = inferRoles(env, delimiter, header.cells.length, header.next);
  // A first row whose cell in a role column is no entity of that role ("translation" above sequences) names the columns.
  const hasHeader = roles.some((role, i) => role !== 'other' && header.cells[i] !== undefined && !judgeCell(env, header.cells[i].start, header.cells[i].end, role));
  return { key: `${hasHeader}:${roles.join(',')}`, delimiter, roles, hasHeader };
}

/** With no telling header, a column whose sampled cells (after the first row, which may name the columns) are nearly all one kind takes that role. */
function inferRoles(env: ScanEnv, delimiter: number, columns: number, from: number): ColumnRole[] {
  const smiles = new Array<number>(columns).fill(0);
  const protein = new Array<number>(columns).fill(0);
  const filled = new Array<number>(columns).fill(0);
  let pos = from;
  for (let r = 0; r < SAMPLE_ROWS && pos < env.text.length; r++) {
    const row = parseRow(env.text, pos, delimiter);
    row.cells.slice(0, columns).forEach((cell, i) => {
      if (cell.end <= cell.start) return;
      filled[i]++;
      if (judgeCell(env, cell.start, cell.end, 'protein')) protein[i]++;
      else if (smilesShape(env.text.slice(cell.start, cell.end))?.strongEvidence && judgeCell(env, cell.start, cell.end, 'smiles')) smiles[i]++;
    });
    pos = row.next;
  }
  return filled.map((f, i) => (f >= 3 && smiles[i] >= INFER_SHARE * f ? 'smiles' : f >= 3 && protein[i] >= INFER_SHARE * f ? 'protein' : 'other'));
}

/** Rows starting on lines [fromLine, toLine]: role cells are judged, other cells go to scanOther. */
export function scanTableRows(
  env: ScanEnv,
  layout: TableLayout,
  fromLine: number,
  toLine: number,
  scanOther: (start: number, end: number, hits: Hit[]) => void,
): { hits: Hit[]; lastLine: number } {
  const hits: Hit[] = [];
  const first = fromLine === 0 && layout.hasHeader ? 1 : fromLine;
  if (first >= env.lines.lineCount) return { hits, lastLine: toLine };
  let pos = env.lines.lineStart(first);
  const stop = env.lines.lineEnd(toLine);
  while (pos <= stop && pos < env.text.length) {
    const row = parseRow(env.text, pos, layout.delimiter);
    row.cells.forEach((cell, i) => {
      const role = layout.roles[i] ?? 'other';
      if (role === 'other') scanOther(cell.start, cell.end, hits);
      else {
        const hit = judgeCell(env, cell.start, cell.end, role);
        if (hit) hits.push(hit);
      }
    });
    pos = row.next;
  }
  return { hits, lastLine: Math.max(toLine, env.lines.lineOf(Math.max(0, pos - 1))) };
}
