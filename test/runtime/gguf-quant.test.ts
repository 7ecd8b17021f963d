// Every supported GGUF block type dequantizes to the values gguf-py's reference dequantizer
// gives for the same bytes (quant-vectors.gguf / quant-vectors.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';
import { GgufFile } from '../../src/runtime/model/gguf/reader';
import { dequantize } from '../../src/runtime/model/gguf/quant';

interface QuantVector { type: string; shape_ne: number[]; values: number[] }
const expected = JSON.parse(readFileSync(dataPath('models', 'quant-vectors.json'), 'utf8')).tensors as Record<string, QuantVector>;

const file = GgufFile.open(dataPath('models', 'quant-vectors.gguf'));
test.after(() => file.close());

for (const [name, vector] of Object.entries(expected)) {
  test(`${vector.type} dequantizes like gguf-py`, () => {
    const info = file.header.tensors.find((t) => t.name === name);
    assert.ok(info, `tensor ${name} in quant-vectors.gguf`);
    assert.equal(info.type.name, vector.type);
    assert.deepEqual(info.ne, vector.shape_ne);
    const values = dequantize(info.type, file.tensorBytes(info), info.elementCount);
    assert.equal(values.length, vector.values.length);
    let maxAbsDiff = 0;
    for (let i = 0; i < values.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(values[i]! - vector.values[i]!));
    // The JSON holds the float32 results rounded to 7 decimal places (error up to 5e-8).
    assert.ok(maxAbsDiff <= 5.1e-8, `${vector.type}: max abs diff ${maxAbsDiff}`);
    console.log(`${vector.type}: max abs diff ${maxAbsDiff.toExponential(2)}`);
  });
}
