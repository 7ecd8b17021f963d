// `tagllm bench train` through the built CLI: the JSON the issue names, and the same step
// with a cached prefix. Speeds are recorded in bench/RESULTS.md, never asserted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { dataPath } from '../helpers/data';

const cli = resolve(__dirname, '../../dist/cli.js');
const tagllm = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('bench train --json gives tokens_per_s, ms_per_step and provider, the step with backward through every position, and with --prefix the cached step', () => {
  const run = tagllm('bench', 'train', '--model', dataPath('models', 'stories260K.gguf'), '--batch', '2', '--seq', '40', '--prefix', '20', '--seconds', '0', '--json');
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(r.provider, 'cpu');
  assert.equal(r.batch, 2);
  assert.equal(r.seq, 40);
  assert.equal(r.prefix, 20);
  for (const key of ['tokens_per_s', 'ms_per_step', 'ms_per_step_every_position', 'backward_cut_speedup', 'ms_per_step_prefix_cached', 'prefix_cache_speedup']) assert.ok(r[key] > 0, `${key}: ${r[key]}`);
  assert.ok(Math.abs(r.prefix_cache_speedup - r.ms_per_step / r.ms_per_step_prefix_cached) < 0.02 * r.prefix_cache_speedup);
  assert.ok(Math.abs(r.backward_cut_speedup - r.ms_per_step_every_position / r.ms_per_step_cut_before_tag) < 0.02 * r.backward_cut_speedup);
  // 2 rows of 30 positions before the tag are too few to cut: the trainer differentiates every position
  assert.equal(r.backward_cut, false);
  assert.equal(r.ms_per_step, r.ms_per_step_every_position);
});

test('bench train refuses a prefix that leaves no room for the tag', () => {
  const run = tagllm('bench', 'train', '--model', dataPath('models', 'stories260K.gguf'), '--seq', '20', '--prefix', '15', '--json');
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /^tagllm: --prefix 15 must leave the tag's 10 vectors/);
});

test('bench profile --json gives what bench/llama-cpp-peer.mjs gives of llama.cpp: first forward, prefill, decode and peak RSS', () => {
  const run = tagllm('bench', 'profile', '--model', dataPath('models', 'stories260K.gguf'), '--repeats', '1', '--new-tokens', '4', '--json');
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(r.engine, 'tagllm');
  assert.equal(r.threads, availableParallelism());
  for (const key of ['prefill_b1', 'prefill_b8', 'decode']) assert.ok(r[`${key}_tokens_per_s`] > 0 && r[`${key}_tokens_per_cpu_s`] > 0, key);
  // the first forward is timed from the process start, so it includes loading and the first prefill
  assert.ok(r.first_forward_ms > r.load_ms + r.first_prefill_ms, JSON.stringify(r));
  // a node process with onnxruntime loaded holds tens of MB at least; the model itself is 1 MB
  assert.ok(r.peak_rss_mb > 30 && r.peak_rss_mb < 4000, `peak_rss_mb ${r.peak_rss_mb}`);
});
