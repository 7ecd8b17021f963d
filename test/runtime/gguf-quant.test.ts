// Every supported GGUF block type dequantizes to the values gguf-py's reference dequantizer
// gives for the same bytes (quant-vectors.gguf / quant-vectors.json, which holds them rounded
// to 7 decimals): identical after the same rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';
import { GgufFile } from '../../src/runtime/model/gguf/reader';
import { dequantize } from '../../src/runtime/model/gguf/quant';

interface QuantVector { type: string; shape_ne: number[]; values: number[] }
const expected = JSON.parse(readFileSync(dataPath('models', 'quant-vectors.json'), 'utf8')).tensors as Record<string, QuantVector>;

/**
 * Python's round(x, digits), which wrote the JSON: round half to even on the exact value. The
 * float32 values here have few significant bits, so x * 10^digits is exact in a double.
 */
function roundLikePython(x: number, digits: number): number {
  const scaled = x * 10 ** digits;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  // Python keeps the sign of a value that rounds to zero (-0.0), as does the JSON.
  return rounded === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : rounded / 10 ** digits;
}

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
    for (let i = 0; i < values.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(values[i]! - vector.values[i]!));
      assert.equal(roundLikePython(values[i]!, 7), vector.values[i], `${vector.type} value ${i}: ${values[i]}`);
    }
    console.log(`${vector.type}: max abs diff ${maxAbsDiff.toExponential(2)}`);
  });
}
