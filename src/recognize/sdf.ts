// SD files: only the data items after each connection table are read ("> <SMILES>" and the
// value lines below it, up to a blank line). The connection table itself is coordinates.
import { judgeCell, roleFromHeader, type ColumnRole } from './cells';
import type { Hit, ScanEnv } from './hits';

const ITEM_HEADER = /^>.*<([^>]+)>/;
// How far up to look for the header of a data item that a scanned range starts inside.
const LOOK_BACK = 200;

export function scanSdfLines(
  env: ScanEnv,
  fromLine: number,
  toLine: number,
  scanOther: (start: number, end: number, hits: Hit[]) => void,
): Hit[] {
  const hits: Hit[] = [];
  let role: ColumnRole | undefined = itemAbove(env, fromLine);
  for (let line = fromLine; line <= toLine; line++) {
    const t = env.context.lineText(line);
    const header = ITEM_HEADER.exec(t);
    if (header) role = roleFromHeader(header[1]);
    else if (t.trim() === '' || t.startsWith('$$$$')) role = undefined;
    else if (role !== undefined) {
      const start = env.lines.lineStart(line);
      const end = env.lines.lineEnd(line);
      if (role === 'other') scanOther(start, end, hits);
      else {
        const hit = judgeCell(env, start, end, role);
        if (hit) hits.push(hit);
      }
    }
  }
  return hits;
}

/** The role of the data item whose value lines continue at `line`, if any. */
function itemAbove(env: ScanEnv, line: number): ColumnRole | undefined {
  for (let l = line - 1; l >= Math.max(0, line - LOOK_BACK); l--) {
    const t = env.context.lineText(l);
    const header = ITEM_HEADER.exec(t);
    if (header) return roleFromHeader(header[1]);
    if (t.trim() === '' || t.startsWith('$$$$') || t.startsWith('M  END')) return undefined;
  }
  return undefined;
}
