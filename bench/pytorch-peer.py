"""PyTorch eager peer for `tagllm bench`: the same decoder shapes, run by Hugging Face
transformers' LlamaForCausalLM on the CPU with random weights (speed does not depend on the
values), timed the way src/cli/commands/bench.ts times ours. `--device cuda` runs it on an NVIDIA
GPU (float32, as ours), the peer of `tagllm bench --device webgpu|cuda` in bench/gpu.sh.

    python3 bench/pytorch-peer.py --threads 2   # prints one JSON object per configuration
    python3 bench/pytorch-peer.py --threads 16 --device cuda --shapes smollm2-135m,llama3.2-1b
"""
import argparse
import json
import statistics
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {
    "stories260K": dict(hidden_size=64, intermediate_size=172, num_hidden_layers=5, num_attention_heads=8,
                        num_key_value_heads=4, vocab_size=512, rope_theta=10000.0, tie_word_embeddings=True),
    "smollm2-135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, vocab_size=49152, rope_theta=100000.0, tie_word_embeddings=True),
    "llama3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                        num_key_value_heads=8, vocab_size=128256, rope_theta=500000.0, tie_word_embeddings=True),
}

DEVICE = torch.device("cpu")


def sync():
    """Kernels on a GPU run asynchronously: wait for them before reading the clock."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def tokens(vocab, n):
    return torch.tensor([(i * 7919 + 13) % vocab for i in range(n)], dtype=torch.long, device=DEVICE)


@torch.inference_mode()
def bench_forward(model, vocab, batch, seq, seconds=3.0):
    ids = tokens(vocab, batch * seq).view(batch, seq)
    mask = torch.ones_like(ids)
    model(input_ids=ids, attention_mask=mask)
    sync()
    times, start = [], time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < seconds and len(times) < 100):
        t = time.perf_counter()
        model(input_ids=ids, attention_mask=mask)  # logits for every position, like --logits all
        sync()
        times.append((time.perf_counter() - t) * 1000)
    ms = statistics.median(times)
    return dict(mode="forward", batch=batch, seq=seq, tokens_per_s=round(batch * seq * 1000 / ms, 2), ms_per_step=round(ms, 2))


@torch.inference_mode()
def bench_generate(model, vocab, batch, seq, new_tokens):
    prompt = tokens(vocab, batch * seq).view(batch, seq)

    def run():
        mask = torch.ones_like(prompt)
        t0 = time.perf_counter()
        out = model(input_ids=prompt, attention_mask=mask, use_cache=True, logits_to_keep=1)
        sync()
        prompt_ms = (time.perf_counter() - t0) * 1000
        past = out.past_key_values
        t1 = time.perf_counter()
        for i in range(new_tokens):
            nxt = torch.tensor([[(r + i * 31) % vocab] for r in range(batch)], dtype=torch.long, device=DEVICE)
            mask = torch.ones(batch, seq + i + 1, dtype=torch.long, device=DEVICE)
            out = model(input_ids=nxt, attention_mask=mask, past_key_values=past, use_cache=True)
            past = out.past_key_values
            out.logits.argmax(-1).tolist()  # the next id is read on the host, as generation does
        sync()
        return prompt_ms, (time.perf_counter() - t1) * 1000

    run()
    prompt_ms, decode_ms = run()
    step = decode_ms / new_tokens
    return dict(mode="generate", batch=batch, prompt_tokens=seq, new_tokens=new_tokens,
                tokens_per_s=round(batch * 1000 / step, 2), ms_per_step=round(step, 2), prompt_ms=round(prompt_ms, 2))


def bench_train(model, vocab, batch, seq, p=10, seconds=3.0, cut=False):
    """One tag-training step as `tagllm bench train` times it: seq - p tokens then a p-vector tag,
    MSE through a linear head on the mean of the tag's final hidden states, backward to the tag
    and head only (weights frozen), AdamW. With `cut`, the tokens before the tag run under
    no_grad and the tag continues their key/value cache, as the tagllm trainer does for large
    models; without it, autograd differentiates every position."""
    for w in model.parameters():
        w.requires_grad_(False)
    emb = model.get_input_embeddings()
    hidden = model.config.hidden_size
    base = emb(tokens(vocab, batch * (seq - p)).view(batch, seq - p)).detach()
    tag = torch.nn.Parameter(emb.weight.mean(0, keepdim=True).repeat(p, 1).clone())
    head = torch.nn.Linear(hidden, 1).to(DEVICE)
    opt = torch.optim.AdamW([tag, *head.parameters()], lr=1e-3)
    target = torch.zeros(batch, 1, device=DEVICE)

    def step():
        opt.zero_grad(set_to_none=True)
        x = tag.unsqueeze(0).expand(batch, p, hidden)
        if cut:
            with torch.no_grad():
                past = model.model(inputs_embeds=base, use_cache=True).past_key_values
            h = model.model(inputs_embeds=x, past_key_values=past, use_cache=True).last_hidden_state
        else:
            h = model.model(inputs_embeds=torch.cat([base, x], dim=1), use_cache=False).last_hidden_state
        torch.nn.functional.mse_loss(head(h[:, -p:].mean(1)), target).backward()
        opt.step()

    step()
    sync()
    times, start = [], time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < seconds and len(times) < 100):
        t = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t) * 1000)
    ms = statistics.median(times)
    return dict(mode="train-cut" if cut else "train", batch=batch, seq=seq, p=p, tokens_per_s=round(batch * seq * 1000 / ms, 2),
                examples_per_s=round(batch * 1000 / ms, 2), ms_per_step=round(ms, 2))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--shapes", default="stories260K,smollm2-135m")
    p.add_argument("--modes", default="forward,generate,train,train-cut")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = p.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name in args.shapes.split(","):
        config = LlamaConfig(**SHAPES[name], max_position_embeddings=2048, rms_norm_eps=1e-5)
        model = LlamaForCausalLM(config).eval().to(DEVICE)
        for batch in (1, 8):
            common = dict(model=name, torch=torch.__version__, threads=args.threads, device=args.device, attention=model.config._attn_implementation)
            modes = args.modes.split(",")
            if "forward" in modes:
                print(json.dumps({**common, **bench_forward(model, config.vocab_size, batch, 64)}), flush=True)
            if "generate" in modes:
                new = 16 if name.startswith("smollm") else 64
                print(json.dumps({**common, **bench_generate(model, config.vocab_size, batch, 16, new)}), flush=True)
            if "train" in modes:
                print(json.dumps({**common, **bench_train(model, config.vocab_size, batch, 64)}), flush=True)
            if "train-cut" in modes:
                print(json.dumps({**common, **bench_train(model, config.vocab_size, batch, 64, cut=True)}), flush=True)


if __name__ == "__main__":
    main()
