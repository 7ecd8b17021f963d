// The panel's CSV export: one row per entity, one column per descriptor and per predicted tag.
// A tag whose bundle records it (format 3) adds its percentile among approved drugs, its
// nearest training similarity and its flags (outside-domain, outside-training-range,
// outside-bounds; ";"-separated, empty when none).
import type { EntityRow } from './panelMessages';
import type { TagPrediction } from './protocol';

function quote(cell: string): string {
  return /[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

type Extra = { suffix: string; cell: (p: TagPrediction) => string | number | undefined };

const EXTRAS: readonly Extra[] = [
  { suffix: 'percentile', cell: (p) => p.percentile },
  { suffix: 'similarity', cell: (p) => p.similarity },
  { suffix: 'flags', cell: (p) => (p.similarity !== undefined || (p.flags ?? []).length > 0 ? (p.flags ?? []).join(';') : undefined) },
];

export function rowsToCsv(rows: readonly EntityRow[]): string {
  const descriptorNames = [...new Set(rows.flatMap((r) => r.descriptors.map((d) => d.name)))];
  const tagNames = [...new Set(rows.flatMap((r) => r.predictions.map((p) => p.tag)))];
  const predictionOf = (row: EntityRow, tag: string) => row.predictions.find((p) => p.tag === tag);
  const extraOf = (row: EntityRow, tag: string, x: Extra) => {
    const p = predictionOf(row, tag);
    return p === undefined ? undefined : x.cell(p);
  };
  // a tag's extra columns only where some row has a value for them
  const tagColumns = tagNames.flatMap((tag) => [
    { header: tag, cell: (row: EntityRow) => predictionOf(row, tag)?.value ?? predictionOf(row, tag)?.text },
    ...EXTRAS.filter((x) => rows.some((r) => extraOf(r, tag, x) !== undefined)).map((x) => ({ header: `${tag} ${x.suffix}`, cell: (row: EntityRow) => extraOf(row, tag, x) })),
  ]);
  const header = ['kind', 'text', 'where', ...descriptorNames, ...tagColumns.map((c) => c.header)];
  const lines = [header.map(quote).join(',')];
  for (const row of rows) {
    const descriptors = descriptorNames.map((n) => row.descriptors.find((d) => d.name === n)?.value);
    const predictions = tagColumns.map((c) => c.cell(row));
    const cells = [row.kind, row.text, row.where, ...[...descriptors, ...predictions].map((v) => (v === undefined ? '' : String(v)))];
    lines.push(cells.map(quote).join(','));
  }
  return `${lines.join('\n')}\n`;
}
