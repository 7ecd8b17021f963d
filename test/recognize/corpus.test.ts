// Precision and recall per kind on the hand-labeled corpus in test/fixtures/recognition:
// realistic files of every supported type, full of hard negatives. Labels sit in labels.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSmilesJudge, scanFile, type EntityKind } from '../../src/recognize/index';

const DIR = join(__dirname, '..', 'fixtures', 'recognition');
type Label = [EntityKind, string, number] | [EntityKind, string, number, number, boolean];
const labels = JSON.parse(readFileSync(join(DIR, 'labels.json'), 'utf8')).files as Record<string, Label[]>;

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

function expectedKeys(file: string, entries: Label[]): string[] {
  const seen = new Map<string, number>();
  return entries.map(([kind, text, a, b, inOutput]) => {
    const [cell, line] = b === undefined ? [undefined, a] : [a, b];
    const lineText = labelSpace(file, cell, inOutput)[line];
    assert.ok(lineText !== undefined, `${file}: label line ${line} does not exist`);
    const probe = text.slice(0, Math.min(text.length, lineText.length));
    const where = `${cell}|${inOutput}|${line}|${text}`;
    const occurrence = seen.get(where) ?? 0;
    seen.set(where, occurrence + 1);
    // The nth occurrence standing alone (so the methane "C" in a CSV row is not the C of "CPD-0003").
    let character = -1;
    for (let i = 0; i <= occurrence; i++) {
      do character = lineText.indexOf(probe, character + 1);
      while (character >= 0 && (/[A-Za-z0-9]/.test(lineText[character - 1] ?? '') || /[A-Za-z0-9]/.test(lineText[character + probe.length] ?? '')));
    }
    assert.ok(character >= 0, `${file}: label "${text}" not found on line ${line}`);
    return key(file, kind, text, line, character, cell, inOutput);
  });
}

function key(file: string, kind: string, text: string, line: number, character: number, cell?: number, inOutput?: boolean): string {
  return [file, cell ?? '', inOutput ? 'out' : '', line, character, kind, text].join('|');
}

const smilesScore: number[] = [];
const proteinScore: number[] = [];

test('labeled corpus: precision >= 0.98 and recall >= 0.95 per kind', async () => {
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
  const kindOf = (k: string) => k.split('|')[5] as EntityKind;
  const report: string[] = [];
  for (const kind of ['smiles', 'protein'] as const) {
    const exp = [...expected].filter((k) => kindOf(k) === kind);
    const got = [...found].filter((k) => kindOf(k) === kind);
    const tp = got.filter((k) => expected.has(k)).length;
    const falsePositives = got.filter((k) => !expected.has(k));
    const misses = exp.filter((k) => !found.has(k));
    const precision = tp / got.length;
    const recall = tp / exp.length;
    report.push(`${kind}: expected ${exp.length}, found ${got.length}, TP ${tp}, FP ${falsePositives.length}, FN ${misses.length}; precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`);
    for (const k of falsePositives) report.push(`  false positive: ${k}`);
    for (const k of misses) report.push(`  miss: ${k}`);
    (kind === 'smiles' ? smilesScore : proteinScore).push(precision, recall);
  }
  // Confusion between kinds: an expected entity found at the same place as the other kind.
  const place = (k: string) => k.split('|').slice(0, 5).join('|');
  const foundPlaces = new Map([...found].map((k) => [place(k), kindOf(k)]));
  for (const k of expected) {
    const other = foundPlaces.get(place(k));
    if (other && other !== kindOf(k)) report.push(`  confused: expected ${kindOf(k)}, found ${other} at ${place(k)}`);
  }
  console.log(report.join('\n'));
  for (const [name, [precision, recall]] of [['smiles', smilesScore], ['protein', proteinScore]] as const) {
    assert.ok(precision >= 0.98, `${name} precision ${precision.toFixed(3)} < 0.98`);
    assert.ok(recall >= 0.95, `${name} recall ${recall.toFixed(3)} < 0.95`);
  }
});
