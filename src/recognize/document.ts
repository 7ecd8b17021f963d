// A document kept recognized as it is edited. An edit rescans only the lines it touched
// (widened to the context a verdict depends on: cue lines, a whole FASTA record, an SD
// record, or every row when a table's header changes); entities after it shift with it.
import { TextScanner } from './textScanner';
import type { SmilesJudge } from './rdkitJudge';
import type { Entity, Range, TextFormat } from './types';

/** One change as VS Code and LSP report it: replace range (in the text before this change) with text. */
export interface TextChange {
  readonly range: Range;
  readonly text: string;
}

export class RecognizedDocument {
  private scanner: TextScanner;
  private current: Entity[];
  /** The lines [first, last] the last change rescanned (current numbering). */
  lastRescan: [number, number] = [0, 0];

  constructor(text: string, readonly format: TextFormat, private readonly judge: SmilesJudge) {
    this.scanner = new TextScanner(text, format, judge);
    this.current = this.rescan(0, this.scanner.lineCount - 1).entities;
  }

  get text(): string {
    return this.scanner.text;
  }

  get entities(): readonly Entity[] {
    return this.current;
  }

  /** Applies changes in order, each against the text the previous one left (LSP's incremental sync). */
  applyChanges(changes: readonly TextChange[]): void {
    for (const change of changes) this.apply(change);
  }

  private apply(change: TextChange): void {
    const old = this.scanner;
    const start = old.env.lines.offsetAt(clamp(old, change.range.start));
    const end = Math.max(start, old.env.lines.offsetAt(clamp(old, change.range.end)));
    this.scanner = new TextScanner(old.text.slice(0, start) + change.text + old.text.slice(end), this.format, this.judge);
    // Line numbers from the indexes themselves, so a CR and an LF that meet count as one break.
    const firstLine = old.env.lines.lineOf(start);
    const oldLastLine = old.env.lines.lineOf(end);
    const newLastLine = this.scanner.env.lines.lineOf(start + change.text.length);
    const delta = this.scanner.lineCount - old.lineCount;

    const kept: Entity[] = [];
    for (const e of this.current) {
      if (e.range.end.line < firstLine) kept.push(e);
      else if (e.range.start.line > oldLastLine) kept.push(shift(e, delta));
    }
    if (this.scanner.layoutKey !== old.layoutKey) {
      // The table's columns changed role: every row reads differently.
      const { entities, lastLine } = this.rescan(0, this.scanner.lineCount - 1);
      this.current = entities;
      this.lastRescan = [0, lastLine];
      return;
    }
    const [from, to] = this.scanner.rescanSpan(firstLine, newLastLine);
    const { entities, lastLine } = this.rescan(from, to);
    this.lastRescan = [from, lastLine];
    const outside = kept.filter((e) => e.range.end.line < from || e.range.start.line > lastLine);
    this.current = [...outside, ...entities].sort(byStart);
  }

  private rescan(from: number, to: number): { entities: Entity[]; lastLine: number } {
    const { hits, lastLine } = this.scanner.scanLines(from, to);
    return { entities: hits.map((h) => this.scanner.toEntity(h)), lastLine };
  }
}

function clamp(scanner: TextScanner, p: { line: number; character: number }): { line: number; character: number } {
  const lines = scanner.env.lines;
  const line = Math.min(Math.max(0, p.line), lines.lineCount - 1);
  const width = lines.lineEnd(line) - lines.lineStart(line);
  return { line, character: Math.min(Math.max(0, p.character), width) };
}

function shift(e: Entity, lines: number): Entity {
  if (lines === 0) return e;
  const { start, end } = e.range;
  return { ...e, range: { start: { line: start.line + lines, character: start.character }, end: { line: end.line + lines, character: end.character } } };
}

function byStart(a: Entity, b: Entity): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;
}
