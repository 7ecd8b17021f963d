// Real code from installed packages (TypeScript's library declarations, Node's type
// declarations, protobufjs and vscode-languageserver) holds no molecules and no sequences: every
// entity found there is a false positive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadSmilesJudge, scanText } from '../../src/recognize/index';

const ROOTS = ['node_modules/typescript/lib', 'node_modules/@types/node', 'node_modules/protobufjs', 'node_modules/vscode-languageserver'];

function codeFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) codeFiles(path, out);
    else if (/\.(d\.ts|js|md)$/.test(name)) out.push(path);
  }
  return out;
}

test('installed packages: megabytes of real code and docs give no entities', async () => {
  const judge = await loadSmilesJudge();
  const files = ROOTS.flatMap((root) => codeFiles(root));
  let bytes = 0;
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    bytes += text.length;
    for (const e of scanText(text, 'text', judge)) found.push(`${file}:${e.range.start.line + 1} ${e.kind} ${e.text}`);
  }
  console.log(`${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${found.length} entities${found.length ? ':\n' + found.join('\n') : ''}`);
  assert.ok(bytes > 5e6, 'the packages are installed');
  assert.deepEqual(found, []);
});
