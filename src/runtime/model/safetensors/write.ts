// Writes float32 tensors as a .safetensors file (dtype F32), atomically: readers see the old
// file or the complete new one. Tensors are laid out in the map's order; the JSON header is
// padded with spaces to a multiple of 8 bytes so the data section starts aligned.
import { ShapeMismatchError } from '../../errors';
import { writeBytesAtomic } from '../../fs/atomicWrite';
import type { F32Tensor } from '../description';

export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, F32Tensor>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const count = tensor.shape.reduce((n, d) => n * d, 1);
    if (count !== tensor.data.length) {
      throw new ShapeMismatchError(`tensor ${name}: shape [${tensor.shape.join(', ')}] holds ${count} values but data has ${tensor.data.length}`, path);
    }
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded.length), true);

  function* chunks(): Generator<Uint8Array> {
    yield prefix;
    yield padded;
    for (const tensor of tensors.values()) yield new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  }
  await writeBytesAtomic(path, chunks());
}
