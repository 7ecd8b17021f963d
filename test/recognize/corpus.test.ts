// Precision and recall per kind on the hand-labeled corpus in test/fixtures/recognition:
// realistic files of every supported type, full of hard negatives. Labels sit in labels.json.
// Scored over the whole corpus and over its notebooks alone, and printed per file type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { loadSmilesJudge, scanFile, type EntityKind } from '../../src/recognize/index';

const DIR = join(__dirname, '..', 'fixtures', 'recognition');
type Label = [EntityKind, string, number] | [EntityKind, string, number, number, boolean];
const labels = JSON.parse(readFileSync(join(DIR, 'labels.json'), 'utf8')).files as Record<string, Label[]>;
const KINDS = ['smiles', 'protein'] as const;
const MIN_PRECISION = 0.98;
const MIN_RECALL = 0.97;

/** The text a label's line number refers to: the file, or a notebook cell's source or output. */
function labelSpace(file: string, cell?: number, inOutput?: boolean): string[] {
  const raw = readFileSync(join(DIR, file), 'utf8');
  if (cell === undefined) return raw.split(/\r\n|\r|\n/);
  const joined = (v: string | string[]) => (Array.isArray(v) ? v.join('') : v);
  const c = JSON.parse(raw).cells[cell];
  if (!inOutput) return joined(c.source).split(/\r\n|\r|\n/);
  const out = c.outputs.find((o: { text?: unknown; data?: unknown }) => o.text ?? o.data);
  return joined(out.text ?? out.data['text/plain']).split(/\r\n|\r|\n/);
}

const WORD_CHAR = /[A-Za-z0-9]/;

/**
 * Where on its first line the nth occurrence of an entity starts, standing alone (so the methane
 * "C" in a CSV row is not the C of "CPD-0003"): its whole text, or, for a sequence wrapped over
 * lines, the residues that run to the line's end (before closing quotes) and begin its text.
 */
function startOn(lineText: string, text: string, occurrence: number): number {
  let seen = 0;
  for (let c = 0; c < lineText.length; c++) {
    if (WORD_CHAR.test(lineText[c - 1] ?? '')) continue;
    let here = false;
    if (lineText.startsWith(text, c)) here = !WORD_CHAR.test(lineText[c + text.length] ?? '');
    else {
      const run = /^[A-Za-z]+/.exec(lineText.slice(c))?.[0];
      here = !!run && run.length < text.length && text.startsWith(run) && /^["'`\s\\+(]*$/.test(lineText.slice(c + run.length));
    }
    if (here && seen++ === occurrence) return c;
  }
  return -1;
}

function expectedKeys(file: string, entries: Label[]): string[] {
  const seen = new Map<string, number>();
  return entries.map(([kind, text, a, b, inOutput]) => {
    const [cell, line] = b === undefined ? [undefined, a] : [a, b];
    const lineText = labelSpace(file, cell, inOutput)[line];
    assert.ok(lineText !== undefined, `${file}: label line ${line} does not exist`);
    const where = `${cell}|${inOutput}|${line}|${text}`;
    const occurrence = seen.get(where) ?? 0;
    seen.set(where, occurrence + 1);
    const character = startOn(lineText, text, occurrence);
    assert.ok(character >= 0, `${file}: label "${text}" not found on line ${line}`);
    return key(file, kind, text, line, character, cell, inOutput);
  });
}

function key(file: string, kind: string, text: string, line: number, character: number, cell?: number, inOutput?: boolean): string {
  return [file, cell ?? '', inOutput ? 'out' : '', line, character, kind, text].join('|');
}

const FILE_TYPES: Record<string, string> = { '.ipynb': 'notebook', '.md': 'markdown', '.py': 'python', '.ts': 'js/ts', '.js': 'js/ts', '.txt': 'text', '.log': 'text' };
const fileType = (file: string) => FILE_TYPES[extname(file)] ?? extname(file).slice(1);
const fileOf = (k: string) => k.split('|')[0];
const kindOf = (k: string) => k.split('|')[5] as EntityKind;

interface Score {
  expected: number;
  found: number;
  tp: number;
  precision: number;
  recall: number;
}

function score(expected: Set<string>, found: Set<string>, kind: EntityKind, inFile: (file: string) => boolean): Score {
  const exp = [...expected].filter((k) => kindOf(k) === kind && inFile(fileOf(k)));
  const got = [...found].filter((k) => kindOf(k) === kind && inFile(fileOf(k)));
  const tp = got.filter((k) => expected.has(k)).length;
  // No entity expected and none found is perfect, not undefined.
  return { expected: exp.length, found: got.length, tp, precision: got.length ? tp / got.length : 1, recall: exp.length ? tp / exp.length : 1 };
}

test(`labeled corpus: precision >= ${MIN_PRECISION} and recall >= ${MIN_RECALL} per kind, over all files and over notebooks alone`, async () => {
  const judge = await loadSmilesJudge();
  const expected = new Set<string>();
  const found = new Set<string>();
  for (const [file, entries] of Object.entries(labels)) {
    for (const k of expectedKeys(file, entries)) expected.add(k);
    const scan = await scanFile(join(DIR, file), judge);
    assert.equal(scan.skipped, undefined, `${file} was skipped`);
    for (const e of scan.entities) {
      const nb = 'cell' in e ? e : undefined;
      found.add(key(file, e.kind, e.text, e.range.start.line, e.range.start.character, nb?.cell, nb?.inOutput));
    }
  }
  const report: string[] = [];
  for (const kind of KINDS) {
    for (const k of [...found].filter((k) => kindOf(k) === kind && !expected.has(k))) report.push(`  false positive: ${k}`);
    for (const k of [...expected].filter((k) => kindOf(k) === kind && !found.has(k))) report.push(`  miss: ${k}`);
  }
  // Confusion between kinds: an expected entity found at the same place as the other kind.
  const place = (k: string) => k.split('|').slice(0, 5).join('|');
  const foundPlaces = new Map([...found].map((k) => [place(k), kindOf(k)]));
  for (const k of expected) {
    const other = foundPlaces.get(place(k));
    if (other && other !== kindOf(k)) report.push(`  confused: expected ${kindOf(k)}, found ${other} at ${place(k)}`);
  }
  const types = [...new Set(Object.keys(labels).map(fileType))].sort();
  const rows: Array<[string, (file: string) => boolean]> = [['all files', () => true], ...types.map((t): [string, (f: string) => boolean] => [t, (f) => fileType(f) === t])];
  report.push('| files | kind | expected | found | TP | precision | recall |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, inFile] of rows) {
    for (const kind of KINDS) {
      const s = score(expected, found, kind, inFile);
      if (s.expected + s.found > 0) report.push(`| ${name} | ${kind} | ${s.expected} | ${s.found} | ${s.tp} | ${s.precision.toFixed(3)} | ${s.recall.toFixed(3)} |`);
    }
  }
  console.log(report.join('\n'));
  for (const [name, inFile] of [rows[0], ['notebooks', (f: string) => fileType(f) === 'notebook']] as const) {
    for (const kind of KINDS) {
      const s = score(expected, found, kind, inFile);
      assert.ok(s.expected >= 30, `${name}: only ${s.expected} ${kind} labels, too few to measure recall to 0.97`);
      assert.ok(s.precision >= MIN_PRECISION, `${name}: ${kind} precision ${s.precision.toFixed(3)} < ${MIN_PRECISION}`);
      assert.ok(s.recall >= MIN_RECALL, `${name}: ${kind} recall ${s.recall.toFixed(3)} < ${MIN_RECALL}`);
    }
  }
});
