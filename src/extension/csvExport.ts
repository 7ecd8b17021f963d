// The panel's CSV export: one row per entity, one column per descriptor and per predicted tag.
import type { EntityRow } from './panelMessages';

function quote(cell: string): string {
  return /[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

export function rowsToCsv(rows: readonly EntityRow[]): string {
  const descriptorNames = [...new Set(rows.flatMap((r) => r.descriptors.map((d) => d.name)))];
  const tagNames = [...new Set(rows.flatMap((r) => r.predictions.map((p) => p.tag)))];
  const header = ['kind', 'text', 'where', ...descriptorNames, ...tagNames];
  const lines = [header.map(quote).join(',')];
  for (const row of rows) {
    const descriptors = descriptorNames.map((n) => row.descriptors.find((d) => d.name === n)?.value);
    const predictions = tagNames.map((t) => {
      const p = row.predictions.find((q) => q.tag === t);
      return p?.value ?? p?.text;
    });
    const cells = [row.kind, row.text, row.where, ...[...descriptors, ...predictions].map((v) => (v === undefined ? '' : String(v)))];
    lines.push(cells.map(quote).join(','));
  }
  return `${lines.join('\n')}\n`;
}
