// Scans one text of a known format, a range of lines at a time: the unit both a full scan
// (in chunks, so a big file never blocks for long) and an incremental rescan are made of.
import { LineIndex } from './lineIndex';
import { CONTEXT_LINES_ABOVE, CONTEXT_LINES_BELOW, LineContext } from './context';
import { LineMasks } from './masks';
import { scanSmilesRuns } from './smilesCandidates';
import { scanProteinWords } from './proteinCandidates';
import { findFastaRecords } from './fasta';
import { findSequenceBlocks, isBlockLine } from './sequenceBlocks';
import { scanTableRows, tableLayout, type TableLayout } from './csv';
import { scanSdfLines } from './sdf';
import { judgeCell } from './cells';
import { isTableLine, MarkdownTables, tableStart } from './markdownTable';
import type { Hit, ScanEnv } from './hits';
import type { SmilesJudge } from './rdkitJudge';
import type { Entity, TextFormat } from './types';

const TAB = 9;
const COMMA = 44;
/** Lines per chunk of a full scan. */
const CHUNK_LINES = 4000;
/** How far an incremental rescan follows a block of sequence lines or an SD record. */
const BLOCK_CAP = 5000;
const SEQUENCE_LINE = /^[A-Za-z]+\*?$/;
/** A FASTA header, or the opening line of a triple-quoted string or template literal, above sequence lines. */
const OPENS_BLOCK = /^>|"""|'''|`/;

export class TextScanner {
  readonly env: ScanEnv;
  private readonly layout?: TableLayout;
  private readonly masks: LineMasks;
  private readonly tables: MarkdownTables;

  constructor(readonly text: string, readonly format: TextFormat, judge: SmilesJudge) {
    const lines = new LineIndex(text);
    this.env = { text, lines, context: new LineContext(text, lines), judge };
    this.masks = new LineMasks(text, lines);
    this.tables = new MarkdownTables(this.env);
    if (format === 'csv' || format === 'tsv') this.layout = tableLayout(this.env, format === 'tsv' ? TAB : COMMA);
  }

  /** Changes when an edit changes how the rows of a table are read (header roles, or roles inferred from sampled rows). */
  get layoutKey(): string {
    return this.layout?.key ?? '';
  }

  get lineCount(): number {
    return this.env.lines.lineCount;
  }

  /** Entities that start on lines [fromLine, toLine], sorted; lastLine is the last line read (a record may run past toLine). */
  scanLines(fromLine: number, toLine: number): { hits: Hit[]; lastLine: number } {
    const { env } = this;
    const prose = (start: number, end: number, out: Hit[]) => this.scanProse(start, end, out);
    let hits: Hit[] = [];
    let lastLine = toLine;
    switch (this.format) {
      case 'text':
      case 'fasta': {
        const records = findFastaRecords(env, fromLine, toLine, this.format === 'fasta' ? 'file' : 'embedded');
        hits = records.hits;
        let spans = records.lineSpans;
        if (this.format === 'text') {
          const blocks = findSequenceBlocks(env, fromLine, toLine, spans);
          hits.push(...blocks.hits);
          spans = [...spans, ...blocks.lineSpans].sort((a, b) => a[0] - b[0]);
        }
        let line = fromLine;
        for (const [first, last] of spans) {
          if (this.format === 'text' && first > line) this.scanTextLines(line, first - 1, hits);
          line = last + 1;
          lastLine = Math.max(lastLine, last);
        }
        if (this.format === 'text' && line <= toLine) this.scanTextLines(line, toLine, hits);
        break;
      }
      case 'csv':
      case 'tsv': {
        const rows = scanTableRows(env, this.layout!, fromLine, toLine, prose);
        hits = rows.hits;
        lastLine = rows.lastLine;
        break;
      }
      case 'smi':
        for (let line = fromLine; line <= toLine; line++) {
          const start = env.lines.lineStart(line);
          const t = env.context.lineText(line);
          const lead = t.length - t.trimStart().length;
          const token = /^\S+/.exec(t.slice(lead));
          const hit = token && judgeCell(env, start + lead, start + lead + token[0].length, 'smiles');
          if (hit) hits.push(hit);
        }
        break;
      case 'sdf':
        hits = scanSdfLines(env, fromLine, toLine, prose);
        break;
    }
    hits.sort((a, b) => a.start - b.start);
    return { hits, lastLine };
  }

  /** The lines to rescan after lines [fromLine, toLine] (current numbering) changed. */
  rescanSpan(fromLine: number, toLine: number): [number, number] {
    const last = this.lineCount - 1;
    if (this.format === 'smi') return [fromLine, toLine];
    // Cue lines reach the verdicts of their neighbours.
    const from = Math.max(0, fromLine - CONTEXT_LINES_ABOVE);
    const to = Math.min(last, toLine + CONTEXT_LINES_BELOW);
    switch (this.format) {
      case 'csv':
      case 'tsv':
        return [from, to];
      case 'sdf':
        return [this.walk(from, -1, (t) => !t.startsWith('$$$$')), this.walk(to, 1, (t) => !t.startsWith('$$$$'))];
      case 'text':
      case 'fasta': {
        // A record or a wrapped block is rescanned whole, from the line that opens it.
        const isSequence = (t: string) => SEQUENCE_LINE.test(t.trimEnd()) || isBlockLine(t);
        let up = this.walk(from, -1, isSequence);
        if (up > 0 && OPENS_BLOCK.test(this.env.context.lineText(up - 1))) up--;
        let down = this.walk(to, 1, isSequence);
        // A table's header decides its rows: an edit in or next to a table rescans all of it.
        for (let l = Math.max(0, fromLine - 1); l <= Math.min(last, toLine + 1); l++) {
          if (!isTableLine(this.env, l)) continue;
          up = Math.min(up, tableStart(this.env, l));
          down = Math.max(down, this.walk(l, 1, (t) => /^ {0,3}\|/.test(t)));
        }
        return [up, down];
      }
    }
  }

  toEntity(hit: Hit): Entity {
    const { lines } = this.env;
    return { kind: hit.kind, text: hit.text, range: { start: lines.positionAt(hit.start), end: lines.positionAt(hit.end) } };
  }

  /** From line, step while the neighbouring line satisfies keep (at most BLOCK_CAP lines). */
  private walk(line: number, step: 1 | -1, keep: (text: string) => boolean): number {
    const last = this.lineCount - 1;
    for (let n = 0; n < BLOCK_CAP; n++) {
      const next = line + step;
      if (next < 0 || next > last || !keep(this.env.context.lineText(next))) break;
      line = next;
    }
    return line;
  }

  /** Lines of running text: markdown table rows by their columns, the rest as prose. */
  private scanTextLines(from: number, to: number, hits: Hit[]): void {
    const { lines } = this.env;
    const prose = (start: number, end: number, out: Hit[]) => this.scanProse(start, end, out);
    let spanStart = from;
    for (let line = from; line <= to; line++) {
      if (!isTableLine(this.env, line)) continue;
      if (line > spanStart) this.scanProse(lines.lineStart(spanStart), lines.lineEnd(line - 1), hits);
      this.tables.scanRow(line, prose, hits);
      spanStart = line + 1;
    }
    if (spanStart <= to) this.scanProse(lines.lineStart(spanStart), lines.lineEnd(to), hits);
  }

  private scanProse(start: number, end: number, hits: Hit[]): void {
    const smiles: Hit[] = [];
    scanSmilesRuns(this.env, start, end, this.masks, smiles);
    scanProteinWords(this.env, start, end, this.masks, smiles, hits);
    for (const h of smiles) hits.push(h);
  }
}

/** Every entity in text, scanned in chunks of lines. */
export function scanText(text: string, format: TextFormat, judge: SmilesJudge): Entity[] {
  const scanner = new TextScanner(text, format, judge);
  const entities: Entity[] = [];
  for (let line = 0; line < scanner.lineCount; ) {
    const { hits, lastLine } = scanner.scanLines(line, Math.min(scanner.lineCount - 1, line + CHUNK_LINES - 1));
    for (const h of hits) entities.push(scanner.toEntity(h));
    line = lastLine + 1;
  }
  return entities;
}

/** As scanText, yielding to the event loop between chunks so a host process stays responsive; stops when signal aborts. */
export async function scanTextAsync(text: string, format: TextFormat, judge: SmilesJudge, signal?: AbortSignal): Promise<Entity[]> {
  const scanner = new TextScanner(text, format, judge);
  const entities: Entity[] = [];
  for (let line = 0; line < scanner.lineCount; ) {
    signal?.throwIfAborted();
    const { hits, lastLine } = scanner.scanLines(line, Math.min(scanner.lineCount - 1, line + CHUNK_LINES - 1));
    for (const h of hits) entities.push(scanner.toEntity(h));
    line = lastLine + 1;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return entities;
}
