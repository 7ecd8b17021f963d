"""Writes a random-weight Llama GGUF of a real model's shape with every 2-D tensor block-quantized,
for the scale runs in bench/RESULTS.md (never downloaded, never committed).

  .venv/bin/python scripts/random-quantized-gguf.py --shape llama-3.2-1b --type Q4_0 --out /tmp/x.gguf

Blocks are random bytes with every f16 scale (and min) set to a small finite value, so the
weights are a valid random quantized model; tensors are written one at a time (the file is
never held in memory). The tokenizer is a SentencePiece-style vocabulary of placeholder
pieces of the model's real size.
"""
import argparse

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter

SHAPES = {
    # hidden, layers, heads, kv heads, ffn, vocab, tied
    'smollm2-135m': (576, 30, 9, 3, 1536, 49152, True),
    'llama-3.2-1b': (2048, 16, 32, 8, 8192, 128256, True),
    'llama-3.1-8b': (4096, 32, 32, 8, 14336, 128256, False),
}
# bytes per block, values per block, offsets of the f16 fields (scales, mins)
BLOCKS = {'Q4_0': (18, 32, [0]), 'Q8_0': (34, 32, [0]), 'Q4_K': (144, 256, [0, 2])}


def random_blocks(rng, rows, cols, kind):
    block_bytes, block, halves = BLOCKS[kind]
    raw = rng.integers(0, 256, size=(rows * cols // block, block_bytes), dtype=np.uint8)
    for at in halves:
        h = rng.uniform(0.0005, 0.002, size=raw.shape[0]).astype(np.float16)
        raw[:, at:at + 2] = h.view(np.uint8).reshape(-1, 2)
    return raw.reshape(rows, -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shape', choices=SHAPES, required=True)
    ap.add_argument('--type', choices=BLOCKS, required=True)
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    hidden, layers, heads, kv_heads, ffn, vocab, tied = SHAPES[args.shape]
    head_dim = hidden // heads
    kind = GGMLQuantizationType[args.type]

    tensors = [('token_embd.weight', (vocab, hidden))]
    for i in range(layers):
        p = f'blk.{i}.'
        tensors += [(p + 'attn_norm.weight', (hidden,)), (p + 'ffn_norm.weight', (hidden,)),
                    (p + 'attn_q.weight', (heads * head_dim, hidden)), (p + 'attn_k.weight', (kv_heads * head_dim, hidden)),
                    (p + 'attn_v.weight', (kv_heads * head_dim, hidden)), (p + 'attn_output.weight', (hidden, heads * head_dim)),
                    (p + 'ffn_gate.weight', (ffn, hidden)), (p + 'ffn_up.weight', (ffn, hidden)), (p + 'ffn_down.weight', (hidden, ffn))]
    tensors.append(('output_norm.weight', (hidden,)))
    if not tied:
        tensors.append(('output.weight', (vocab, hidden)))

    w = GGUFWriter(args.out, 'llama')
    w.add_name(f'random {args.shape} {args.type}')
    w.add_context_length(8192)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(500000.0)
    w.add_tokenizer_model('llama')
    pieces = ['<unk>', '<s>', '</s>'] + [f'<0x{b:02X}>' for b in range(256)]
    pieces += [f'\u2581t{i}' for i in range(vocab - len(pieces))]
    w.add_token_list(pieces)
    w.add_token_scores([0.0] * vocab)
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * (vocab - 259))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)

    block_bytes, block, _ = BLOCKS[args.type]
    for name, shape in tensors:
        if len(shape) == 1:
            w.add_tensor_info(name, shape, np.float32, shape[0] * 4)
        else:
            rows, cols = shape
            w.add_tensor_info(name, (rows, cols // block * block_bytes), np.uint8, rows * cols // block * block_bytes, raw_dtype=kind)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    rng = np.random.default_rng(0)
    for name, shape in tensors:
        w.write_tensor_data(np.ones(shape, np.float32) if len(shape) == 1 else random_blocks(rng, *shape, args.type))
    w.close()


if __name__ == '__main__':
    main()
