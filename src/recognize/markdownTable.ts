// Markdown tables in text files: a column headed smiles or sequence is judged cell by cell,
// like a CSV column, so `| ethanol | CCO |` under `| name | smiles |` is a molecule.
import { judgeCell, roleFromHeader, type ColumnRole } from './cells';
import { smilesShape } from './smilesSyntax';
import type { Hit, ScanEnv } from './hits';

const PIPE = 124;
const SPACE = 32;
const SEPARATOR_ROW = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;
/** How far up a row looks for its table's header. */
const TABLE_LOOK_BACK = 1000;
/** How many rows a table's header looks down to infer a column's role. */
const INFER_ROWS = 50;

/** A line whose first non-space character (within three spaces) is a pipe. */
export function isTableLine(env: ScanEnv, line: number): boolean {
  const start = env.lines.lineStart(line);
  const end = env.lines.lineEnd(line);
  for (let i = start; i < end && i - start <= 3; i++) {
    const c = env.text.charCodeAt(i);
    if (c === PIPE) return true;
    if (c !== SPACE) return false;
  }
  return false;
}

/** Cell spans between the pipes of a table row. */
function cells(env: ScanEnv, line: number): Array<[number, number]> {
  const start = env.lines.lineStart(line);
  const end = env.lines.lineEnd(line);
  const pipes: number[] = [];
  for (let i = start; i < end; i++) {
    if (env.text.charCodeAt(i) === PIPE && env.text[i - 1] !== '\\') pipes.push(i);
  }
  const spans: Array<[number, number]> = [];
  for (let k = 0; k + 1 < pipes.length; k++) spans.push([pipes[k] + 1, pipes[k + 1]]);
  // A row may leave out its closing pipe.
  if (pipes.length > 0 && env.text.slice(pipes[pipes.length - 1] + 1, end).trim() !== '') spans.push([pipes[pipes.length - 1] + 1, end]);
  return spans;
}

/** The first line of the table that `line` belongs to. */
export function tableStart(env: ScanEnv, line: number): number {
  let first = line;
  while (first > 0 && line - first < TABLE_LOOK_BACK && isTableLine(env, first - 1)) first--;
  return first;
}

export class MarkdownTables {
  private readonly roles = new Map<number, ColumnRole[] | null>();

  constructor(private readonly env: ScanEnv) {}

  /** Scans one table line: role cells are judged; others, and the header, go to scanOther. */
  scanRow(line: number, scanOther: (start: number, end: number, hits: Hit[]) => void, hits: Hit[]): void {
    const first = tableStart(this.env, line);
    const roles = this.rolesOf(first);
    if (roles && line === first + 1) return;
    cells(this.env, line).forEach(([start, end], i) => {
      const role = roles && line > first + 1 ? (roles[i] ?? 'other') : 'other';
      if (role === 'other') scanOther(start, end, hits);
      else {
        const hit = judgeCell(this.env, start, end, role);
        if (hit) hits.push(hit);
      }
    });
  }

  /**
   * Column roles when the table has a header (a header row, then a separator row): from the
   * header's names, or, where a name says nothing, from the rows: a column whose filled cells are
   * mostly molecules with ring or bracket evidence (and two atoms or more) holds molecules, short
   * ones (CCO) included.
   */
  private rolesOf(first: number): ColumnRole[] | null {
    let roles = this.roles.get(first);
    if (roles === undefined) {
      const { env } = this;
      const separator = first + 1 < env.lines.lineCount && isTableLine(env, first + 1) && SEPARATOR_ROW.test(env.context.lineText(first + 1));
      roles = separator ? cells(env, first).map(([s, e]) => roleFromHeader(env.text.slice(s, e).trim())) : null;
      if (roles) {
        const named = roles;
        const evidence = new Array<number>(named.length).fill(0);
        const filled = new Array<number>(named.length).fill(0);
        for (let l = first + 2; l < env.lines.lineCount && l - first < INFER_ROWS && isTableLine(env, l); l++) {
          cells(env, l).forEach(([s, e], i) => {
            if (i >= named.length || named[i] !== 'other' || env.text.slice(s, e).trim() === '') return;
            filled[i]++;
            // Lone bracket atoms ([N+], [O-]) are tokens of a vocabulary as often as molecules.
            const hit = judgeCell(env, s, e, 'smiles');
            const shape = hit && smilesShape(hit.text);
            if (shape && shape.strongEvidence && shape.atoms >= 2) evidence[i]++;
          });
        }
        roles = named.map((r, i) => (r === 'other' && filled[i] >= 2 && evidence[i] * 2 >= filled[i] ? 'smiles' : r));
      }
      this.roles.set(first, roles);
    }
    return roles;
  }
}
