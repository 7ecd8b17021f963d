// Model downloads against a local HTTP server on 127.0.0.1 (never the real internet): URLs and
// Hugging Face repo ids, progress, cache hits, checksums, and clear errors when the server is
// unreachable, missing a file, or drops the connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { dataPath } from '../helpers/data';
import { HttpModelFetcher } from '../../src/runtime/model/sources/httpFetcher';
import { resolveModelSpec } from '../../src/runtime/model/sources/resolve';
import { DEFAULT_MODEL, defaultModelSpec, modelCacheDir, parseRemoteSpec } from '../../src/runtime/model/sources/spec';
import type { FetchProgress } from '../../src/runtime/model/sources/fetcher';
import { loadHfFolder } from '../../src/runtime/model/hf/loadFolder';
import { writeSafetensors } from '../../src/runtime/model/safetensors/write';
import { loadModel } from '../../src/runtime/model/load';
import { DownloadError, UsageError } from '../../src/runtime/errors';
import { floatWeights } from '../helpers/weights';

interface FileServer {
  readonly base: string;
  /** Request paths in arrival order. */
  readonly requests: string[];
}

/** Serves `routes` (URL path -> local file); /truncated promises 1000 bytes and sends 10. */
async function serve(t: { after(fn: () => Promise<void>): void }, routes: Record<string, string>): Promise<FileServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    requests.push(path);
    if (path === '/truncated') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 10);
      return;
    }
    const file = routes[path];
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-length': String(body.length) });
    // Several chunks, so progress is reported more than once.
    const step = Math.ceil(body.length / 4);
    for (let i = 0; i < body.length; i += step) res.write(body.subarray(i, i + step));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port nothing listens on: bind one, then close it. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const stories = () => dataPath('models', 'stories260K.gguf');

test('a URL downloads into the cache with progress, then comes from the cache without a request', async (t) => {
  const server = await serve(t, { '/files/stories260K.gguf': stories() });
  const cacheDir = tempDir(t);
  const fetcher = new HttpModelFetcher();
  const progress: FetchProgress[] = [];
  const url = `${server.base}/files/stories260K.gguf`;
  const path = await fetcher.fetch({ kind: 'url', url, sha256: DEFAULT_MODEL.sha256 }, cacheDir, (p) => progress.push(p));
  assert.ok(readFileSync(path).equals(readFileSync(stories())));
  assert.ok(progress.length >= 2);
  assert.deepEqual(progress.at(-1), { file: 'stories260K.gguf', bytesDone: 1185376, bytesTotal: 1185376 });
  assert.ok(progress.every((p, i) => i === 0 || p.bytesDone > progress[i - 1]!.bytesDone));

  const again = await fetcher.fetch({ kind: 'url', url }, cacheDir);
  assert.equal(again, path);
  assert.deepEqual(server.requests, ['/files/stories260K.gguf'], 'the second fetch is a cache hit');
  assert.deepEqual(readdirSync(join(path, '..')), ['stories260K.gguf'], 'no temporary files left');
});

test('a checksum mismatch is a DownloadError and leaves nothing in the cache', async (t) => {
  const server = await serve(t, { '/m.gguf': stories() });
  const cacheDir = tempDir(t);
  const wrong = '0'.repeat(64);
  await assert.rejects(
    new HttpModelFetcher().fetch({ kind: 'url', url: `${server.base}/m.gguf`, sha256: wrong }, cacheDir),
    (e: unknown) => e instanceof DownloadError && e.message.includes(DEFAULT_MODEL.sha256) && e.message.includes(wrong),
  );
  const leftovers = readdirSync(cacheDir, { recursive: true }).filter((f) => String(f).endsWith('.gguf') || String(f).includes('.tmp-'));
  assert.deepEqual(leftovers, []);
});

test('a Hugging Face repo id downloads a loadable folder; a repo file path downloads one file', async (t) => {
  const hf = (f: string) => dataPath('models', 'tiny-bpe-llama-hf', f);
  const server = await serve(t, {
    '/org/tiny/resolve/main/config.json': hf('config.json'),
    '/org/tiny/resolve/main/tokenizer.json': hf('tokenizer.json'),
    '/org/tiny/resolve/main/tokenizer_config.json': hf('tokenizer_config.json'),
    '/org/tiny/resolve/main/model.safetensors': hf('model.safetensors'),
    '/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf': stories(),
  });
  const cacheDir = tempDir(t);
  const fetcher = new HttpModelFetcher({ hfEndpoint: server.base });
  const dir = await resolveModelSpec('org/tiny', { fetcher, cacheDir });
  assert.equal(dir, join(cacheDir, 'hf', 'org', 'tiny', 'main'));
  const model = await loadHfFolder(dir);
  assert.equal(model.config.vocabSize, 1024);
  // The optional files the server lacks were asked for once and skipped.
  assert.ok(server.requests.includes('/org/tiny/resolve/main/model.safetensors.index.json'));
  const requestsAfterFirst = server.requests.length;
  assert.equal(await resolveModelSpec('org/tiny', { fetcher, cacheDir }), dir);
  assert.equal(server.requests.length, requestsAfterFirst, 'a complete cached repo needs no request');

  const file = await resolveModelSpec('ggml-org/models/tinyllamas/stories260K.gguf', { fetcher, cacheDir });
  assert.ok(readFileSync(file).equals(readFileSync(stories())));
});

test('sharded repos fetch the index and every shard it names', async (t) => {
  const src = tempDir(t);
  const model = await loadHfFolder(dataPath('models', 'tiny-bpe-llama-hf'));
  const names = [...floatWeights(model).keys()];
  const weightMap: Record<string, string> = {};
  for (const [i, part] of [names.slice(0, 5), names.slice(5)].entries()) {
    const shard = `model-0000${i + 1}-of-00002.safetensors`;
    await writeSafetensors(join(src, shard), new Map(part.map((n) => [n, floatWeights(model).get(n)!])));
    for (const n of part) weightMap[n] = shard;
  }
  writeFileSync(join(src, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  for (const f of ['config.json', 'tokenizer.json']) copyFileSync(dataPath('models', 'tiny-bpe-llama-hf', f), join(src, f));
  const routes = Object.fromEntries(readdirSync(src).map((f) => [`/org/sharded/resolve/main/${f}`, join(src, f)]));
  const server = await serve(t, routes);
  const dir = await resolveModelSpec('org/sharded', { fetcher: new HttpModelFetcher({ hfEndpoint: server.base }), cacheDir: tempDir(t) });
  const loaded = await loadHfFolder(dir);
  for (const [name, tensor] of floatWeights(model)) assert.deepEqual(floatWeights(loaded).get(name)!.data, tensor.data, name);
});

test('aborting mid-download stops it and leaves no partial file', async (t) => {
  const server = await serve(t, { '/m.gguf': stories() });
  const cacheDir = tempDir(t);
  const controller = new AbortController();
  await assert.rejects(
    new HttpModelFetcher().fetch({ kind: 'url', url: `${server.base}/m.gguf` }, cacheDir, () => controller.abort(), controller.signal),
    { name: 'AbortError' },
  );
  const cached = readdirSync(cacheDir, { recursive: true }).map(String);
  assert.ok(!cached.some((f) => f.endsWith('.gguf') || f.includes('.tmp-')), cached.join(', '));
});

test('an unreachable server is a one-line "offline or unreachable" DownloadError', async (t) => {
  const port = await refusedPort();
  const url = `http://127.0.0.1:${port}/model.gguf`;
  await assert.rejects(
    new HttpModelFetcher().fetch({ kind: 'url', url }, tempDir(t)),
    (e: unknown) => e instanceof DownloadError && e.message === `could not download ${url}: offline or unreachable (ECONNREFUSED)`,
  );
  // Through loadModel, as the CLI calls it.
  const cacheDir = tempDir(t);
  const previous = process.env.TAGLLM_CACHE_DIR;
  process.env.TAGLLM_CACHE_DIR = cacheDir;
  t.after(() => {
    if (previous === undefined) delete process.env.TAGLLM_CACHE_DIR;
    else process.env.TAGLLM_CACHE_DIR = previous;
  });
  await assert.rejects(loadModel(url), (e: unknown) => e instanceof DownloadError && /offline or unreachable/.test(e.message));
});

test('HTTP errors and dropped connections name the URL; a repo 404 also mentions local paths', async (t) => {
  const server = await serve(t, {});
  const cacheDir = tempDir(t);
  const fetcher = new HttpModelFetcher({ hfEndpoint: server.base });
  await assert.rejects(fetcher.fetch({ kind: 'url', url: `${server.base}/nope.gguf` }, cacheDir), /could not download .*\/nope\.gguf: HTTP 404 Not Found$/);
  await assert.rejects(
    fetcher.fetch({ kind: 'url', url: `${server.base}/truncated` }, cacheDir),
    (e: unknown) => e instanceof DownloadError && /truncated: (connection lost after \d+ bytes|got 10 of 1000 bytes)/.test(e.message),
  );
  const cached = readdirSync(cacheDir, { recursive: true }).map(String);
  assert.ok(!cached.some((f) => f.endsWith('truncated') || f.includes('.tmp-')), 'no partial download in the cache');
  await assert.rejects(resolveModelSpec('models/typo', { fetcher, cacheDir }), /HTTP 404.*no local file or folder "models\/typo"/);
});

test('model specs: URLs, repo ids, repo files, local-looking paths; default model and cache folder', async () => {
  assert.deepEqual(parseRemoteSpec('HuggingFaceTB/SmolLM2-135M'), { kind: 'hf-repo', repo: 'HuggingFaceTB/SmolLM2-135M', revision: 'main' });
  assert.deepEqual(parseRemoteSpec('ggml-org/models/tinyllamas/stories260K.gguf'), {
    kind: 'hf-file', repo: 'ggml-org/models', file: 'tinyllamas/stories260K.gguf', revision: 'main',
  });
  assert.deepEqual(parseRemoteSpec('https://example.org/m/model.gguf'), { kind: 'url', url: 'https://example.org/m/model.gguf' });
  assert.equal(parseRemoteSpec(DEFAULT_MODEL.url)?.kind === 'url' && (parseRemoteSpec(DEFAULT_MODEL.url) as { sha256?: string }).sha256, DEFAULT_MODEL.sha256);
  for (const local of ['model.gguf', './models/x', '/abs/model.gguf', '../up/x', 'a/../b', 'https://example.org/']) {
    assert.equal(parseRemoteSpec(local), undefined, local);
  }
  assert.equal(defaultModelSpec({ TAGLLM_MODEL: '/m.gguf' }), '/m.gguf');
  assert.equal(defaultModelSpec({}), DEFAULT_MODEL.url);
  assert.equal(modelCacheDir({ TAGLLM_CACHE_DIR: '/c' }), '/c');
  assert.match(modelCacheDir({}), /\.cache\/tagllm$/);
  await assert.rejects(resolveModelSpec('./no/such/model.gguf'), (e: unknown) => e instanceof UsageError);
  assert.equal(await resolveModelSpec(stories()), stories());
});
