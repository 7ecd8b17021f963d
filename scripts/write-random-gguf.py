#!/usr/bin/env python3
"""Random-weight GGUF files of real model shapes, for benchmarks against llama.cpp.

    .venv/bin/python scripts/write-random-gguf.py --shape smollm2-135m --type Q4_0 \
        --tokenizer DIR/smollm2/tokenizer.json --out /tmp/smollm2-135m-Q4_0.gguf

The files are what llama.cpp loads: general.architecture llama, the llama.* hyperparameters, a
real tokenizer's vocabulary, merges and special tokens (from the tokenizer.json given), and
tensor data in order, each tensor padded to general.alignment. Every 2-D weight is stored in the
requested type (like llama-quantize --pure); a weight whose rows are not a whole number of
256-value super-blocks falls back from Q4_K to Q5_0, as llama-quantize does. Norms stay F32.
Llama 3's `llama3` rope scaling is stored the way llama.cpp's converter stores it, as the
rope_freqs.weight factors.

Quant blocks are random bytes with their scales set so that weights have a standard deviation
near 0.02: speed does not depend on the values, only on the types and shapes. Tensors are
written one at a time, so a file of several GB needs memory for its largest tensor only.
"""
import argparse
import json
import math
import sys

import numpy as np
import gguf

Q = gguf.GGMLQuantizationType

# The real models' configurations (config.json on the Hugging Face hub). `pre` is llama.cpp's
# name for the tokenizer's pre-tokenizer, `bos`/`eos` the base models' special tokens.
SHAPES = {
    'smollm2-135m': dict(hidden=576, layers=30, heads=9, kv_heads=3, ffn=1536, vocab=49152, tied=True,
                         theta=100000.0, context=8192, eps=1e-5, rope_scaling=None,
                         pre='smollm', bos='<|endoftext|>', eos='<|endoftext|>'),
    'llama-3.2-1b': dict(hidden=2048, layers=16, heads=32, kv_heads=8, ffn=8192, vocab=128256, tied=True,
                         theta=500000.0, context=131072, eps=1e-5,
                         rope_scaling=dict(factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0, original_context=8192),
                         pre='llama-bpe', bos='<|begin_of_text|>', eos='<|end_of_text|>'),
    'llama-3.1-8b': dict(hidden=4096, layers=32, heads=32, kv_heads=8, ffn=14336, vocab=128256, tied=False,
                         theta=500000.0, context=131072, eps=1e-5,
                         rope_scaling=dict(factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, original_context=8192),
                         pre='llama-bpe', bos='<|begin_of_text|>', eos='<|end_of_text|>'),
}

# general.file_type (llama.cpp's llama_ftype) for each requested type.
FILE_TYPES = {'Q4_0': 2, 'Q8_0': 7, 'Q4_K': 14}  # Q4_K: MOSTLY_Q4_K_S

# Where each block's fp16 scales sit, and the scale that gives a weight spread near 0.02 when the
# quantized values are uniformly random: (byte offset, fp16 value) pairs.
WEIGHT_STD = 0.02
SCALES = {
    Q.Q4_0: [(0, WEIGHT_STD / 4.6)],                 # d * (q - 8), q in 0..15
    Q.Q5_0: [(0, WEIGHT_STD / 9.2)],                 # d * (q - 16), q in 0..31
    Q.Q8_0: [(0, WEIGHT_STD / 74.0)],                # d * q, q in -128..127
    # d * sc * q - dmin * m with q in 0..15 and 6-bit sc, m: dmin = 7.5 d centres the values, and
    # their spread is then about 258 d (from q, and from sc and m differing between sub-blocks)
    Q.Q4_K: [(0, WEIGHT_STD / 258), (2, WEIGHT_STD / 258 * 7.5)],
}


def tensor_type(requested, row_length):
    if requested == Q.Q4_K and row_length % 256 != 0:
        return Q.Q5_0
    return requested


def random_blocks(rng, qtype, rows, row_length):
    block_size, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    blocks = rows * row_length // block_size
    data = np.frombuffer(rng.bytes(blocks * block_bytes), dtype=np.uint8).reshape(blocks, block_bytes).copy()
    for offset, scale in SCALES[qtype]:
        data[:, offset:offset + 2] = np.frombuffer(np.float16(scale).tobytes(), dtype=np.uint8)
    return data.reshape(rows, row_length // block_size * block_bytes)


def llama3_rope_factors(head_dim, theta, s):
    """The per-frequency divisors of Llama 3.1's rope scaling, as llama.cpp's rope_freqs.weight holds them."""
    low_wavelen = s['original_context'] / s['low_freq_factor']
    high_wavelen = s['original_context'] / s['high_freq_factor']
    factors = []
    for i in range(0, head_dim, 2):
        wavelen = 2 * math.pi * theta ** (i / head_dim)
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(s['factor'])
        else:
            smooth = (s['original_context'] / wavelen - s['low_freq_factor']) / (s['high_freq_factor'] - s['low_freq_factor'])
            factors.append(1.0 / ((1 - smooth) / s['factor'] + smooth))
    return np.array(factors, dtype=np.float32)


def add_tokenizer(writer, tokenizer_path, shape):
    with open(tokenizer_path, encoding='utf-8') as f:
        tok = json.load(f)
    model = tok.get('model', {})
    if model.get('type') != 'BPE':
        sys.exit(f'{tokenizer_path}: a byte-level BPE tokenizer.json is needed, got model type {model.get("type")!r}')
    by_id = {i: t for t, i in model['vocab'].items()}
    kinds = {}
    for added in tok.get('added_tokens', []):
        by_id[added['id']] = added['content']
        kinds[added['id']] = gguf.TokenType.CONTROL if added.get('special') else gguf.TokenType.USER_DEFINED
    if max(by_id) >= shape['vocab']:
        sys.exit(f'{tokenizer_path}: token id {max(by_id)} does not fit the vocabulary of {shape["vocab"]}')
    tokens, types = [], []
    for i in range(shape['vocab']):
        # Rows of the embedding beyond the tokenizer (padding) are unused tokens, as converters write them.
        tokens.append(by_id.get(i, f'[PAD{i}]'))
        types.append(kinds.get(i, gguf.TokenType.NORMAL if i in by_id else gguf.TokenType.UNUSED))
    merges = [m if isinstance(m, str) else ' '.join(m) for m in model['merges']]
    ids = {t: i for i, t in enumerate(tokens)}
    for role in ('bos', 'eos'):
        if shape[role] not in ids:
            sys.exit(f'{tokenizer_path}: has no {role} token {shape[role]!r}')
    writer.add_tokenizer_model('gpt2')
    writer.add_tokenizer_pre(shape['pre'])
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(ids[shape['bos']])
    writer.add_eos_token_id(ids[shape['eos']])
    writer.add_add_bos_token(shape['pre'] == 'llama-bpe')


def tensor_plan(shape, qtype):
    """(name, rows, row length, stored type) in llama.cpp's order; rows x row length = ggml's ne[1] x ne[0]."""
    h, kv = shape['hidden'], shape['hidden'] // shape['heads'] * shape['kv_heads']
    plan = []
    if shape['rope_scaling']:
        plan.append(('rope_freqs.weight', 1, h // shape['heads'] // 2, Q.F32))
    plan.append(('token_embd.weight', shape['vocab'], h, tensor_type(qtype, h)))
    for b in range(shape['layers']):
        p = f'blk.{b}.'
        plan += [
            (p + 'attn_norm.weight', 1, h, Q.F32),
            (p + 'attn_q.weight', h, h, tensor_type(qtype, h)),
            (p + 'attn_k.weight', kv, h, tensor_type(qtype, h)),
            (p + 'attn_v.weight', kv, h, tensor_type(qtype, h)),
            (p + 'attn_output.weight', h, h, tensor_type(qtype, h)),
            (p + 'ffn_norm.weight', 1, h, Q.F32),
            (p + 'ffn_gate.weight', shape['ffn'], h, tensor_type(qtype, h)),
            (p + 'ffn_up.weight', shape['ffn'], h, tensor_type(qtype, h)),
            (p + 'ffn_down.weight', h, shape['ffn'], tensor_type(qtype, shape['ffn'])),
        ]
    plan.append(('output_norm.weight', 1, h, Q.F32))
    if not shape['tied']:
        plan.append(('output.weight', shape['vocab'], h, tensor_type(qtype, h)))
    return plan


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--shape', required=True, choices=sorted(SHAPES))
    ap.add_argument('--type', required=True, choices=sorted(FILE_TYPES))
    ap.add_argument('--tokenizer', required=True, help="the model family's tokenizer.json (byte-level BPE)")
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    shape = SHAPES[args.shape]
    qtype = Q[args.type]
    head_dim = shape['hidden'] // shape['heads']

    w = gguf.GGUFWriter(args.out, 'llama')
    w.add_name(f'random {args.shape} {args.type}')
    w.add_file_type(FILE_TYPES[args.type])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_context_length(shape['context'])
    w.add_embedding_length(shape['hidden'])
    w.add_block_count(shape['layers'])
    w.add_feed_forward_length(shape['ffn'])
    w.add_head_count(shape['heads'])
    w.add_head_count_kv(shape['kv_heads'])
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(shape['theta'])
    w.add_layer_norm_rms_eps(shape['eps'])
    w.add_vocab_size(shape['vocab'])
    add_tokenizer(w, args.tokenizer, shape)

    plan = tensor_plan(shape, qtype)
    for name, rows, cols, t in plan:
        if t == Q.F32:
            w.add_tensor_info(name, [cols], np.dtype(np.float32), cols * 4)  # norms and rope factors: 1-D
        else:
            block_size, block_bytes = gguf.GGML_QUANT_SIZES[t]
            w.add_tensor_info(name, [rows, cols // block_size * block_bytes], np.dtype(np.uint8), rows * cols // block_size * block_bytes, raw_dtype=t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    rng = np.random.default_rng(args.seed)
    for name, rows, cols, t in plan:
        if name == 'rope_freqs.weight':
            w.write_tensor_data(llama3_rope_factors(head_dim, shape['theta'], shape['rope_scaling']))
        elif t == Q.F32:
            w.write_tensor_data(np.ones(cols, dtype=np.float32))
        else:
            w.write_tensor_data(random_blocks(rng, t, rows, cols))
    w.close()


if __name__ == '__main__':
    main()
