// Text from files is escaped and cut before it reaches a terminal, a log or an editor message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControl, quote, safeLine } from '../../src/runtime/safeText';

test('escape sequences, BOMs, bidi overrides and lone surrogates are written as escapes', () => {
  assert.equal(escapeControl('a\x1b[2Jb'), 'a\\x1b[2Jb');
  assert.equal(escapeControl('\x1b]0;pwned\x07'), '\\x1b]0;pwned\\x07');
  assert.equal(escapeControl('\u009b31m'), '\\x9b31m');
  assert.equal(escapeControl('\ufeff{"a":1}'), '\\ufeff{"a":1}');
  assert.equal(escapeControl('abc\u202edef'), 'abc\\u202edef');
  assert.equal(escapeControl('x\ud800y'), 'x\\ud800y');
  assert.equal(escapeControl('line\nnext\tcol\r'), 'line\\nnext\\tcol\\r');
  // printable text, including astral characters and accents, is left alone
  assert.equal(escapeControl('Å² 😀 é CC(=O)O'), 'Å² 😀 é CC(=O)O');
});

test('quote cuts long values at 120 characters and states the full length', () => {
  assert.equal(quote('short'), '"short"');
  const long = 'C'.repeat(70_100);
  const q = quote(long);
  assert.equal(q, `"${'C'.repeat(120)}…" (70,100 characters)`);
  // an astral character at the cut is not split into a lone surrogate
  const astral = 'a'.repeat(119) + '😀' + 'b'.repeat(10);
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(quote(astral)), quote(astral));
});

test('safeLine cuts long quoted runs and long lines, and escapes controls', () => {
  const line = safeLine(`bad value "${'x'.repeat(5000)}" in file.gguf\x1b[2J`);
  assert.equal(line, `bad value "${'x'.repeat(120)}…" (5,000 characters) in file.gguf\\x1b[2J`);
  const long = safeLine('y '.repeat(40_000));
  assert.ok(long.length < 1100 && long.endsWith('(80,000 characters)'), long.slice(-40));
  assert.ok(!/[\x00-\x1f]/.test(safeLine('a\nb\rc\x00')));
});
