// Training and evaluation examples from a data file: one or more input columns (SMILES,
// protein sequences or plain text), an optional numeric label (a column, or a property
// computed from the input), and an optional split column. Rows with an unparseable
// SMILES (or one RDKit-js cannot survive: see chem/rdkit.ts), an illegal protein letter, or an
// empty, non-numeric or non-finite label, or one too large to standardize (a fit would overflow),
// are skipped and counted before any fit, never fatal, unless no row is left.
import { InvalidFileError, UsageError } from '../errors';
import { isMoleculeDescriptor, moleculeDescriptor, MOLECULE_DESCRIPTORS } from '../chem/descriptors';
import { isProteinDescriptor, normalizeProteinSequence, proteinDescriptor, PROTEIN_DESCRIPTORS } from '../chem/protein';
import { loadRDKit, MoleculeRejectedError, withMol, type RDKit } from '../chem/rdkit';
import { readRecords } from './records';
import { quote } from '../safeText';
import { SeededRng } from '../train/rng';
import type { Table } from './delimited';

export type InputKind = 'smiles' | 'protein' | 'text';

export interface Example {
  /** One value per input column, validated (protein sequences normalized to upper case). */
  readonly inputs: readonly string[];
  /** Absent for unlabeled (stage-1) data. */
  readonly label?: number;
  /** With `labels` columns (multi-label classification): one value per column, NaN where the cell is empty. */
  readonly targets?: readonly number[];
  /** The split column's raw value, when a split column was named. */
  readonly split?: string;
  /** 1-based line in the file. */
  readonly line: number;
}

export interface SkippedRow {
  readonly line: number;
  readonly column: string;
  readonly reason: string;
}

export interface ExampleSet {
  readonly path: string;
  readonly examples: Example[];
  readonly nSkipped: number;
  /** The first few skipped rows, for the report. */
  readonly skipped: SkippedRow[];
}

export interface ExampleSpec {
  readonly path: string;
  readonly inputColumns: readonly string[];
  readonly inputKinds: readonly InputKind[];
  /** A numeric column, or a computed descriptor of the first input (qed, logp, tpsa, mw; gravy, instability, pi, ...). */
  readonly label?: string;
  /**
   * Several label columns read together (Tox21's 12 tasks): empty cells are missing labels, and
   * a row is skipped only when every one is missing or one is not a number.
   */
  readonly labels?: readonly string[];
  readonly splitColumn?: string;
  /** Keep at most this many usable rows (the first ones in file order). */
  readonly limit?: number;
  /**
   * Keep a seeded random sample of this many usable rows, in file order. Rows are visited in
   * a random order and only until the sample is full, so a computed label (QED runs SMARTS
   * matches) is computed for the sample, not for the whole file.
   */
  readonly sample?: { readonly size: number; readonly seed: number };
  /** Cut protein and text inputs to this many characters before validation; longer SMILES are skipped (a SMILES is never cut). */
  readonly maxInputLength?: number;
}

/** The kind of input a domain tag marks: `<SMILES>` molecules, `<Protein>` sequences, anything else text. */
export function inputKindOfDomain(domainTag: string): InputKind {
  const name = domainTag.replace(/^<|>$/g, '').toLowerCase();
  if (name === 'smiles' || name === 'molecule') return 'smiles';
  if (name === 'protein' || name === 'sequence') return 'protein';
  return 'text';
}

const KEEP_SKIPPED = 20;
/** Squares of labels up to this size, summed over any number of rows a file can hold, stay finite in float64. */
export const MAX_LABEL_MAGNITUDE = 1e150;

function columnIndex(table: Table, name: string, path: string, what: string): number {
  const i = table.columns.indexOf(name);
  if (i < 0) throw new UsageError(`no ${what} column "${name}"; the file has ${table.columns.map((c) => `"${c}"`).join(', ')}`, path);
  return i;
}

type LabelSource = { kind: 'column'; index: number } | { kind: 'computed'; name: string } | undefined;

function labelSource(table: Table, spec: ExampleSpec): LabelSource {
  if (spec.label === undefined) return undefined;
  if (table.columns.includes(spec.label)) return { kind: 'column', index: table.columns.indexOf(spec.label) };
  const name = spec.label.toLowerCase();
  const first = spec.inputKinds[0];
  if (first === 'smiles' && isMoleculeDescriptor(name)) return { kind: 'computed', name };
  if (first === 'protein' && isProteinDescriptor(name)) return { kind: 'computed', name };
  const computed = first === 'smiles' ? MOLECULE_DESCRIPTORS : first === 'protein' ? PROTEIN_DESCRIPTORS : [];
  throw new UsageError(
    `"${spec.label}" is neither a column of the file nor a computed label${computed.length ? ` (${computed.join(', ')})` : ''}`,
    spec.path,
  );
}

function validateInput(rdkit: RDKit | undefined, kind: InputKind, raw: string, maxLength: number | undefined): { value?: string; reason?: string } {
  const v = raw.trim();
  if (v === '') return { reason: 'empty' };
  // Limits apply before validation: RDKit and the protein rules then see only what training will use.
  if (kind === 'smiles') {
    const tooLong = (smiles: string) => maxLength !== undefined && smiles.length > maxLength;
    const overLength = (smiles: string) => ({ reason: `the SMILES is ${smiles.length} characters long, over the --max-length of ${maxLength} (a SMILES cannot be cut)` });
    // a molblock from an SD file is bounded by its atom count instead (chem/rdkit.ts), and its SMILES checked after
    const molblock = v.includes('M  END');
    if (!molblock && tooLong(v)) return overLength(v);
    try {
      // molblocks become SMILES, the form the model reads
      const value = withMol(rdkit!, v, (mol) => (molblock ? mol.get_smiles() : v));
      if (value === undefined) return { reason: 'RDKit cannot parse the SMILES' };
      return tooLong(value) ? overLength(value) : { value };
    } catch (error) {
      if (error instanceof MoleculeRejectedError) return { reason: error.reason };
      throw error;
    }
  }
  const kept = maxLength === undefined ? v : v.slice(0, maxLength);
  if (kind === 'protein') {
    const seq = normalizeProteinSequence(kept);
    return seq ? { value: seq } : { reason: 'letters that are not amino acids' };
  }
  return { value: kept };
}

export async function loadExamples(spec: ExampleSpec): Promise<ExampleSet> {
  if (spec.inputColumns.length !== spec.inputKinds.length) throw new UsageError(`${spec.inputColumns.length} input columns but ${spec.inputKinds.length} domains`);
  const table = readRecords(spec.path);
  const inputIdx = spec.inputColumns.map((c) => columnIndex(table, c, spec.path, 'input'));
  const splitIdx = spec.splitColumn === undefined ? -1 : columnIndex(table, spec.splitColumn, spec.path, 'split');
  const label = labelSource(table, spec);
  const multiIdx = (spec.labels ?? []).map((c) => columnIndex(table, c, spec.path, 'label'));
  const needsRdkit = spec.inputKinds.includes('smiles');
  const examples: Example[] = [];
  const skipped: SkippedRow[] = [];
  let nSkipped = 0;
  const skip = (line: number, column: string, reason: string) => {
    nSkipped++;
    if (skipped.length < KEEP_SKIPPED) skipped.push({ line, column, reason });
  };
  const order = spec.sample ? new SeededRng(spec.sample.seed).permutation(table.rows.length) : table.rows.keys();
  const wanted = Math.min(spec.limit ?? Infinity, spec.sample?.size ?? Infinity);
  for (const r of order) {
    if (examples.length >= wanted) break;
    const row = table.rows[r];
    const line = table.lines[r];
    // per row: a molecule that traps RDKit replaces the instance, and the next row must use the new one
    const rdkit = needsRdkit ? await loadRDKit() : undefined;
    const inputs: string[] = [];
    let bad = false;
    for (let k = 0; k < inputIdx.length && !bad; k++) {
      const kind = spec.inputKinds[k];
      const { value, reason } = validateInput(rdkit, kind, row[inputIdx[k]], spec.maxInputLength);
      if (value === undefined) {
        skip(line, spec.inputColumns[k], reason!);
        bad = true;
      } else inputs.push(value);
    }
    if (bad) continue;
    let y: number | undefined;
    if (label?.kind === 'column') {
      const raw = row[label.index].trim();
      y = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(y)) {
        skip(line, spec.label!, raw === '' ? 'empty label' : Number.isNaN(y) ? `label ${quote(raw)} is not a number` : `label ${quote(raw)} is not finite`);
        continue;
      }
      if (Math.abs(y) > MAX_LABEL_MAGNITUDE) {
        skip(line, spec.label!, `label ${quote(raw)} is beyond ±${MAX_LABEL_MAGNITUDE}: its square overflows when the labels are standardized`);
        continue;
      }
    } else if (label?.kind === 'computed') {
      try {
        y = spec.inputKinds[0] === 'smiles' ? moleculeDescriptor(rdkit!, inputs[0], label.name as never) : proteinDescriptor(inputs[0], label.name as never);
      } catch (error) {
        if (!(error instanceof MoleculeRejectedError)) throw error;
        skip(line, spec.inputColumns[0], error.reason);
        continue;
      }
      if (y === undefined || !Number.isFinite(y)) {
        skip(line, spec.inputColumns[0], `cannot compute ${label.name}`);
        continue;
      }
    }
    let targets: number[] | undefined;
    if (multiIdx.length > 0) {
      targets = multiIdx.map((k) => (row[k].trim() === '' ? NaN : Number(row[k].trim())));
      const bad = targets.findIndex((v, k) => !Number.isFinite(v) && row[multiIdx[k]].trim() !== '');
      if (bad >= 0) {
        skip(line, spec.labels![bad], `label ${quote(row[multiIdx[bad]].trim())} is not a number`);
        continue;
      }
      if (targets.every((v) => Number.isNaN(v))) {
        skip(line, spec.labels!.join(','), 'every label is empty');
        continue;
      }
    }
    examples.push({ inputs, ...(y !== undefined ? { label: y } : {}), ...(targets ? { targets } : {}), ...(splitIdx >= 0 ? { split: row[splitIdx] } : {}), line });
  }
  if (examples.length === 0) {
    const first = skipped[0];
    throw new InvalidFileError(
      `no usable rows in column ${spec.inputColumns.map((c) => `"${c}"`).join(', ')}${label ? ` with label "${spec.label}"` : ''}: ` +
        `${nSkipped} skipped${first ? ` (first: line ${first.line}, column "${first.column}": ${first.reason})` : ''}`,
      spec.path,
    );
  }
  if (spec.sample) examples.sort((a, b) => a.line - b.line);
  return { path: spec.path, examples, nSkipped, skipped };
}
