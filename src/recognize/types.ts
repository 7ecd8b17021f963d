// What the recognizer reports. Positions follow VS Code: 0-based line, and the character is a
// UTF-16 code-unit offset within the line (what a JS string index counts), so an emoji before an
// entity moves it by 2 and a CRLF line ending never counts as a character of the line.

export type EntityKind = 'smiles' | 'protein';

export interface Position {
  readonly line: number;
  readonly character: number;
}

export interface Range {
  readonly start: Position;
  readonly end: Position;
}

export interface Entity {
  readonly kind: EntityKind;
  /** The molecule or sequence; for a wrapped FASTA record, the sequence without line breaks. */
  readonly text: string;
  /** Where it sits in the document (or the notebook cell); end is exclusive. */
  readonly range: Range;
}

export interface NotebookEntity extends Entity {
  /** Index of the cell in the notebook's `cells` array. */
  readonly cell: number;
  /** True when found in an output; the range then lies in that output's text. */
  readonly inOutput: boolean;
  /** Index of the output within the cell, when inOutput. */
  readonly output?: number;
}

/** How a text is laid out, which decides where candidates are looked for and which thresholds apply. */
export type TextFormat = 'text' | 'csv' | 'tsv' | 'smi' | 'fasta' | 'sdf';

/** One file's result: its entities, or the reason it was not scanned. */
/** A candidate that made RDKit-js fail (it was restarted); it is not counted as a molecule. 0-based position. */
export interface RejectedCandidate {
  readonly text: string;
  readonly line: number;
  readonly character: number;
}

export type FileScan =
  | { readonly path: string; readonly entities: readonly (Entity | NotebookEntity)[]; readonly skipped?: undefined; readonly rejected?: readonly RejectedCandidate[] }
  | { readonly path: string; readonly entities: readonly []; readonly skipped: string };
