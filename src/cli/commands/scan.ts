// `tagllm scan PATH... [--json]`: the molecules and protein sequences in files, folders and
// notebooks. With --json, one JSON object per entity and per line; skipped files are told on
// stderr (and, with --json, as a line with "skipped" too), and so is a candidate that made RDKit fail.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliCommand, ParsedArgs } from '../command';
import { CliUsageError } from '../command';
import { loadSmilesJudge, scanFile, type FileScan } from '../../recognize/index';
import { escapeControl, quote, safeLine } from '../../runtime/safeText';

/** Folders never worth walking into. */
const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '__pycache__', '.venv', 'venv']);
const TABLE_TEXT_WIDTH = 60;

export const scanCommand: CliCommand = {
  name: 'scan',
  summary: 'List the SMILES and protein sequences in files, folders and notebooks',
  help: [
    'Usage: tagllm scan PATH... [--json]',
    '',
    '  PATH    a file or a folder (walked recursively, skipping dot folders and node_modules)',
    '  --json  one JSON object per entity and per line: path, kind, text, line, character (0-based,',
    '          UTF-16), cell for notebooks, in_output when found in a cell output; skipped files',
    '          give a line with path and skipped, and a candidate that made RDKit fail a line with',
    '          path, unparseable, line and character. A sequence wrapped over several lines is one',
    '          entity: line and character of its first residue, its text without line breaks',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  async run(args: ParsedArgs, signal: AbortSignal): Promise<void> {
    if (args.positionals.length === 0) throw new CliUsageError('scan needs at least one PATH');
    const json = args.values.json === true;
    const judge = await loadSmilesJudge();
    for (const root of args.positionals) {
      for await (const path of filesUnder(root)) {
        signal.throwIfAborted();
        report(await scanFile(path, judge), json);
      }
    }
  },
};

async function* filesUnder(path: string): AsyncGenerator<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) {
    yield path;
    return;
  }
  const names = (await readdir(path)).sort();
  for (const name of names) {
    if (name.startsWith('.') || SKIP_DIRS.has(name)) continue;
    yield* filesUnder(join(path, name));
  }
}

function report(scan: FileScan, json: boolean): void {
  if (scan.skipped !== undefined) {
    process.stderr.write(`tagllm scan: ${safeLine(`${scan.path}: skipped, ${scan.skipped}`)}\n`);
    if (json) process.stdout.write(JSON.stringify({ path: scan.path, skipped: scan.skipped }) + '\n');
    return;
  }
  for (const r of scan.rejected ?? []) {
    process.stderr.write(`tagllm scan: ${safeLine(`${scan.path}:${r.line + 1}:${r.character + 1}: RDKit-js failed on ${quote(r.text)}; not counted as a molecule`)}\n`);
    if (json) process.stdout.write(JSON.stringify({ path: scan.path, unparseable: r.text, line: r.line, character: r.character }) + '\n');
  }
  for (const e of scan.entities) {
    const { line, character } = e.range.start;
    if (json) {
      const row: Record<string, unknown> = { path: scan.path, kind: e.kind, text: e.text, line, character };
      if ('cell' in e) row.cell = e.cell;
      if ('inOutput' in e && e.inOutput) row.in_output = true;
      process.stdout.write(JSON.stringify(row) + '\n');
    } else {
      const where = 'cell' in e ? `${scan.path}[cell ${e.cell}${e.inOutput ? ' output' : ''}]:${line + 1}:${character + 1}` : `${scan.path}:${line + 1}:${character + 1}`;
      const text = e.text.length > TABLE_TEXT_WIDTH ? `${e.text.slice(0, TABLE_TEXT_WIDTH - 1)}… (${e.text.length})` : e.text;
      // file names may hold control characters too
      process.stdout.write(`${escapeControl(where)}  ${e.kind.padEnd(7)}  ${escapeControl(text)}\n`);
    }
  }
}
