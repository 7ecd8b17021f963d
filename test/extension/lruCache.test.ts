import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LruCache } from '../../src/extension/lruCache';

test('LRU cache forgets the least recently used entry, and shrinks on resize', () => {
  const cache = new LruCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  assert.equal(cache.get('a'), 1); // a is now the most recent
  cache.set('c', 3);
  assert.equal(cache.get('b'), undefined);
  assert.deepEqual([cache.get('a'), cache.get('c')], [1, 3]);
  cache.resize(1);
  assert.equal(cache.size, 1);
  assert.equal(cache.get('c'), 3);
});
