#!/usr/bin/env python3
"""Random-weight fixtures of each model family, with transformers' outputs as the reference.

For every family: the family's real configuration shrunk in width and depth with every
architectural switch kept, built by transformers with random weights (seeded), saved as a
Hugging Face folder and written as a GGUF in llama.cpp's tensor naming and layout (gguf-py's
own name table; Gemma's norms stored as 1 + w and no q/k permutation, as llama.cpp's converter
does for these architectures). The reference (transformers, float32, eager attention) holds
the prompt ids, the last-position logits of a prompt longer than the sliding window or the
original RoPE context, and a greedy generation from a prompt that starts below them and grows
past them.

Tokenizers come from $TAGLLM_DATA_DIR/tokenizers: Qwen3's own; the Phi-3 vocabulary for Phi-3
(the GGUF takes llama.cpp's Phi-3 vocab-only file's tokenizer metadata). Gemma's tokenizer is
not in the shared data, so the Gemma and Mistral fixtures use the Phi-3 vocabulary too.

usage: make-family-fixtures.py OUT_DIR [FAMILY ...]
writes OUT_DIR/FAMILY/{hf/, model.gguf (unless the family has none), reference.json, logits.f32}
"""
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
import gguf
from tokenizers import Tokenizer

# One writer of byte-level BPE vocabularies, shared with the tokenizer fixtures.
_spec = importlib.util.spec_from_file_location('tokenizer_fixtures', Path(__file__).with_name('make-tokenizer-fixtures.py'))
_tokenizer_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tokenizer_fixtures)
add_bpe_vocab = _tokenizer_fixtures.add_bpe_vocab

DATA = Path(os.environ.get('TAGLLM_DATA_DIR', Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data'))
TOKENIZERS = DATA / 'tokenizers'
PHI3_VOCAB_GGUF = TOKENIZERS / 'llama.cpp-vocab-tests' / 'ggml-vocab-phi-3.gguf'

# A prompt of prose, code and a SMILES string: long enough to pass every window below.
LONG_PROMPT = 'The molecule CC(=O)Oc1ccccc1C(=O)O is aspirin; def f(x): return x * 2  # twice'
SHORT_PROMPT = 'Aspirin is'
NEW_TOKENS = 10

# Real configurations (Qwen3-0.6B, Phi-4-mini / Phi-3-mini-128k, gemma-2-2b, gemma-3-1b/4b text)
# shrunk; each comment names what was kept or changed and why.
FAMILIES = {
    'qwen3': dict(
        cls='Qwen3ForCausalLM', config='Qwen3Config', tokenizer='qwen3', gguf_arch='QWEN3',
        # head_dim 16 differs from hidden/heads = 8, as Qwen3's 128 differs from 1024/16 = 64.
        hf=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                head_dim=16, rms_norm_eps=1e-6, rope_theta=1_000_000.0, max_position_embeddings=40960,
                tie_word_embeddings=True, attention_bias=False, use_sliding_window=False),
    ),
    'phi3': dict(
        cls='Phi3ForCausalLM', config='Phi3Config', tokenizer='phi3', gguf_arch='PHI3',
        # Phi-4-mini's partial rotary (0.75) and GQA, Phi-3-mini's untied head and sliding window,
        # LongRoPE with original context 8 (real: 4096) so the inputs reach the long factors.
        hf=dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                rms_norm_eps=1e-5, max_position_embeddings=64, original_max_position_embeddings=8,
                partial_rotary_factor=0.75, sliding_window=6, tie_word_embeddings=False,
                rope_scaling=dict(rope_type='longrope', short_factor=[1.0, 1.1, 1.3, 1.6, 2.0, 2.5],
                                  long_factor=[1.0, 1.5, 2.5, 4.0, 7.0, 12.0])),
    ),
    'gemma2': dict(
        cls='Gemma2ForCausalLM', config='Gemma2Config', tokenizer='phi3', gguf_arch='GEMMA2',
        # Soft caps lowered from 50/30 so that they bite on a tiny model's scores and logits;
        # query_pre_attn_scalar = head_dim as in every Gemma 2 but the 27B.
        hf=dict(hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                head_dim=16, query_pre_attn_scalar=16, rms_norm_eps=1e-6, rope_theta=10000.0, max_position_embeddings=8192,
                sliding_window=5, attn_logit_softcapping=2.0, final_logit_softcapping=5.0, tie_word_embeddings=True,
                hidden_activation='gelu_pytorch_tanh'),
    ),
    'gemma3': dict(
        cls='Gemma3ForCausalLM', config='Gemma3TextConfig', tokenizer='phi3', gguf_arch='GEMMA3',
        # Six layers so that the 5:1 sliding/full pattern has its full layer; 4B's linear RoPE
        # scaling (factor 8) on full layers, local theta 10k on sliding ones.
        hf=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=1,
                head_dim=16, query_pre_attn_scalar=16, rms_norm_eps=1e-6, max_position_embeddings=131072,
                sliding_window=5, tie_word_embeddings=True, hidden_activation='gelu_pytorch_tanh',
                rope_parameters={'full_attention': {'rope_type': 'linear', 'factor': 8.0, 'rope_theta': 1_000_000.0},
                                 'sliding_attention': {'rope_type': 'default', 'rope_theta': 10_000.0}}),
    ),
    # Mistral v0.1's sliding window; llama.cpp writes Mistral as `llama` without a window, so HF only.
    'mistral': dict(
        cls='MistralForCausalLM', config='MistralConfig', tokenizer='phi3', gguf_arch=None,
        hf=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                head_dim=8, rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=32768, sliding_window=5,
                tie_word_embeddings=False),
    ),
}


def main() -> None:
    out = Path(sys.argv[1])
    names = sys.argv[2:] or list(FAMILIES)
    torch.set_grad_enabled(False)
    for name in names:
        make_family(name, FAMILIES[name], out / name)


def make_family(name: str, spec: dict, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    hf_dir = out / 'hf'
    hf_dir.mkdir(parents=True)
    tok_dir = TOKENIZERS / spec['tokenizer']
    tokenizer = Tokenizer.from_file(str(tok_dir / 'tokenizer.json'))
    # Phi-3's embedding has a row for each of the 32,064 ids of llama.cpp's Phi-3 vocabulary.
    vocab = len(gguf.GGUFReader(str(PHI3_VOCAB_GGUF)).fields['tokenizer.ggml.tokens'].data) if spec['tokenizer'] == 'phi3' \
        else tokenizer.get_vocab_size(with_added_tokens=True)

    config = getattr(transformers, spec['config'])(vocab_size=vocab, **spec['hf'])
    torch.manual_seed(sum(map(ord, name)))
    model = getattr(transformers, spec['cls'])(config).eval()
    gemma = name.startswith('gemma')
    randomize(model, gemma)
    model.config._attn_implementation = 'eager'
    model.save_pretrained(hf_dir, safe_serialization=True)
    for f in ('tokenizer.json', 'tokenizer_config.json'):
        if (tok_dir / f).exists():
            shutil.copy(tok_dir / f, hf_dir / f)

    long_ids = tokenizer.encode(LONG_PROMPT, add_special_tokens=False).ids
    short_ids = tokenizer.encode(SHORT_PROMPT, add_special_tokens=False).ids
    logits = model(torch.tensor([long_ids])).logits[0, -1].numpy().astype('<f4')
    logits.tofile(out / 'logits.f32')
    generated = greedy(model, short_ids)
    reference = dict(
        family=name, long_prompt=LONG_PROMPT, long_ids=long_ids, short_prompt=SHORT_PROMPT, short_ids=short_ids,
        greedy_ids=generated, vocab_size=vocab, greedy_margins=greedy_margins(model, short_ids, generated),
        transformers=transformers.__version__, gguf=spec['gguf_arch'] is not None,
    )
    (out / 'reference.json').write_text(json.dumps(reference))
    if spec['gguf_arch']:
        write_gguf(out / 'model.gguf', model, spec, tokenizer, tok_dir)
    if name == 'gemma3':
        write_gguf(out / 'model-ollama.gguf', model, spec, tokenizer, tok_dir, ollama=True)


def randomize(model: torch.nn.Module, gemma: bool) -> None:
    """Weights large enough that every switch (norm offsets, soft caps, windows) moves the logits."""
    for pname, p in model.named_parameters():
        if p.dim() == 1:  # norms: Gemma stores w of (1 + w), the others the scale itself
            p.copy_(torch.randn_like(p) * 0.3 + (0.0 if gemma else 1.0))
        elif 'embed_tokens' in pname:
            p.normal_(0.0, 0.1 if gemma else 0.5)  # Gemma scales it by sqrt(hidden)
        else:
            p.normal_(0.0, 0.25)


def greedy(model, prompt: list) -> list:
    """Greedy tokens, each from a whole-sequence forward: the model's own definition. (Phi-3's
    generate in transformers 5.18 drops its cache where LongRoPE switches to the long factors,
    as intended, but then runs the last token alone.)"""
    ids = list(prompt)
    for _ in range(NEW_TOKENS):
        ids.append(int(model(torch.tensor([ids])).logits[0, -1].argmax()))
    return ids[len(prompt):]


def greedy_margins(model, prompt: list, generated: list) -> list:
    """The gap between the best and second-best logit at each greedy step (a tie would make the test fragile)."""
    ids = torch.tensor([prompt + generated])
    logits = model(ids).logits[0, len(prompt) - 1: -1]
    top = torch.topk(logits, 2, dim=-1).values
    return (top[:, 0] - top[:, 1]).tolist()


def write_gguf(path: Path, model, spec: dict, tokenizer: Tokenizer, tok_dir: Path, ollama: bool = False) -> None:
    """llama.cpp's form; `ollama`: Ollama's Gemma 3 form (global/local RoPE theta keys, a per-layer
    sliding pattern, no epsilon, the vision tower and projector in the same file)."""
    arch = getattr(gguf.MODEL_ARCH, spec['gguf_arch'])
    arch_name = gguf.MODEL_ARCH_NAMES[arch]
    c = model.config
    w = gguf.GGUFWriter(str(path), arch_name)
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    if not ollama:
        w.add_layer_norm_rms_eps(c.rms_norm_eps)
    head_dim = getattr(c, 'head_dim', None) or c.hidden_size // c.num_attention_heads
    rope = c.rope_parameters.get('full_attention', c.rope_parameters)
    extra = {}
    if ollama:
        w.add_float32(f'{arch_name}.rope.global.freq_base', rope['rope_theta'])
        w.add_float32(f'{arch_name}.rope.local.freq_base', c.rope_parameters['sliding_attention']['rope_theta'])
        w.add_sliding_window_pattern([t == 'sliding_attention' for t in c.layer_types])
        extra['v.patch_embd.weight'] = np.ones((4, 8), dtype=np.float32)
        extra['mm.input_projection.weight'] = np.ones((8, 4), dtype=np.float32)
    else:
        w.add_rope_freq_base(rope['rope_theta'])
    if arch_name == 'phi3':
        rot = int(head_dim * rope.get('partial_rotary_factor', 1.0))
        w.add_rope_dimension_count(rot)
        w.add_sliding_window(c.sliding_window or 0)
        original = rope['original_max_position_embeddings']
        w.add_rope_scaling_orig_ctx_len(original)
        scale = c.max_position_embeddings / original
        w.add_rope_scaling_attn_factors(float(np.sqrt(1 + np.log(scale) / np.log(original))) if scale > 1 else 1.0)
        extra['rope_factors_long.weight'] = np.array(rope['long_factor'], dtype=np.float32)
        extra['rope_factors_short.weight'] = np.array(rope['short_factor'], dtype=np.float32)
    else:
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    if arch_name in ('gemma2', 'gemma3'):
        w.add_sliding_window(c.sliding_window)
    if arch_name == 'gemma2':
        w.add_attn_logit_softcapping(c.attn_logit_softcapping)
        w.add_final_logit_softcapping(c.final_logit_softcapping)
    if arch_name == 'gemma3' and rope.get('rope_type') == 'linear':
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(rope['factor'])
    write_tokenizer(w, tokenizer, tok_dir)

    names = gguf.TensorNameMap(arch, c.num_hidden_layers)
    for hf_name, tensor in model.state_dict().items():
        if hf_name == 'lm_head.weight' and c.tie_word_embeddings:
            continue
        data = tensor.float().numpy().copy()
        if arch_name in ('gemma2', 'gemma3') and hf_name.endswith('norm.weight'):
            data = data + 1  # llama.cpp's converter: its RMSNorm multiplies by the stored weight
        name = names.get_name(hf_name.removesuffix('.weight').removesuffix('.bias'))
        if name is None:
            raise SystemExit(f'no llama.cpp name for {hf_name}')
        w.add_tensor(name + '.' + hf_name.rsplit('.', 1)[1], data)
    for name, data in extra.items():
        w.add_tensor(name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_tokenizer(w: gguf.GGUFWriter, tokenizer: Tokenizer, tok_dir: Path) -> None:
    if tok_dir.name == 'phi3':
        # llama.cpp's own Phi-3 tokenizer metadata (SentencePiece scores, token types).
        reader = gguf.GGUFReader(str(PHI3_VOCAB_GGUF))
        for key, field in reader.fields.items():
            if key.startswith('tokenizer.'):
                sub = field.types[1] if len(field.types) > 1 else None
                w.add_key_value(key, field.contents(), field.types[0], sub)
        return
    add_bpe_vocab(w, tok_dir / 'tokenizer.json', tokenizer, 'qwen2')
    config = json.loads((tok_dir / 'tokenizer_config.json').read_text())
    w.add_eos_token_id(tokenizer.token_to_id(config['eos_token']))


if __name__ == '__main__':
    main()
