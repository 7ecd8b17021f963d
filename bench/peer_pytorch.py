"""The peer to beat: PyTorch eager (transformers LlamaForCausalLM) on the same shapes and the
same definitions as `tagllm bench`, on the CPU it runs on. PyTorch cannot be installed on the
development machine (no PyPI), so this runs wherever PyTorch is (scripts/device-bench.sh runs
it beside `tagllm bench` on one machine, pinned to the same cores).

  forward   one forward of [batch, seq] tokens with logits at every position:
            tokens/s = batch*seq / median time
  generate  a seq-token prompt, then new tokens one at a time with the KV cache:
            tokens/s = batch * steps / decode time
  train     one tag-training step: forward with inputs_embeds, MSE through a linear head at
            the last position, backward to the tag vectors only (weights frozen), AdamW:
            tokens/s = batch*seq / median time

Prints one JSON object per line, like `tagllm bench --json`.
"""
import argparse
import json
import statistics
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {
    # stories260K.gguf: dim 64, 5 layers, 8 heads / 4 KV heads, FFN 172, vocab 512, untied head
    "stories260K": dict(hidden_size=64, intermediate_size=172, num_hidden_layers=5, num_attention_heads=8,
                        num_key_value_heads=4, vocab_size=512, rms_norm_eps=1e-5, rope_theta=10000.0,
                        max_position_embeddings=2048, tie_word_embeddings=False),
    "smollm2-135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, vocab_size=49152, rms_norm_eps=1e-5, rope_theta=100000.0,
                         max_position_embeddings=8192, tie_word_embeddings=True),
}


def build(shape: str, device: str) -> LlamaForCausalLM:
    torch.manual_seed(1)
    config = LlamaConfig(**SHAPES[shape], attn_implementation="eager")
    model = LlamaForCausalLM(config).to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def tokens(model, batch: int, seq: int, device: str) -> torch.Tensor:
    v = model.config.vocab_size
    return torch.tensor([(i * 7919 + 13) % v for i in range(batch * seq)], device=device).view(batch, seq)


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: str, min_seconds: float, max_runs: int = 100) -> tuple[float, int]:
    fn()  # warm-up
    sync(device)
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < min_seconds and len(times) < max_runs):
        t = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times)


@torch.no_grad()
def bench_forward(model, batch, seq, device, seconds):
    ids = tokens(model, batch, seq, device)
    s, runs = timed(lambda: model(input_ids=ids, use_cache=False), device, seconds)
    return dict(tokens_per_s=round(batch * seq / s, 2), ms_per_step=round(s * 1000, 2), runs=runs)


@torch.no_grad()
def bench_generate(model, batch, seq, new_tokens, device):
    ids = tokens(model, batch, seq, device)

    def run():
        out = model(input_ids=ids, use_cache=True)
        past = out.past_key_values
        sync(device)
        t = time.perf_counter()
        for i in range(new_tokens):
            nxt = torch.tensor([[(r + i * 31) % model.config.vocab_size] for r in range(batch)], device=device)
            out = model(input_ids=nxt, past_key_values=past, use_cache=True)
            past = out.past_key_values
        sync(device)
        return time.perf_counter() - t

    run()  # warm-up
    decode = run()
    step = decode / new_tokens
    return dict(tokens_per_s=round(batch / step, 2), ms_per_step=round(step * 1000, 2))


def bench_train(model, batch, seq, p, device, seconds):
    hidden = model.config.hidden_size
    emb = model.get_input_embeddings()
    ids = tokens(model, batch, seq - p, device)
    base = emb(ids).detach()
    tag = torch.nn.Parameter(emb.weight.mean(0, keepdim=True).repeat(p, 1).clone())
    head = torch.nn.Linear(hidden, 1).to(device)
    opt = torch.optim.AdamW([tag, *head.parameters()], lr=1e-4)
    target = torch.randn(batch, 1, device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        x = torch.cat([base, tag.unsqueeze(0).expand(batch, p, hidden)], dim=1)
        h = model.model(inputs_embeds=x, use_cache=False).last_hidden_state[:, -1]
        loss = torch.nn.functional.mse_loss(head(h), target)
        loss.backward()
        opt.step()

    s, runs = timed(step, device, seconds)
    return dict(tokens_per_s=round(batch * seq / s, 2), examples_per_s=round(batch / s, 2),
                ms_per_step=round(s * 1000, 2), runs=runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["forward", "generate", "train"])
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--p", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    model = build(a.shape, a.device)
    if a.mode == "forward":
        r = bench_forward(model, a.batch, a.seq, a.device, a.seconds)
    elif a.mode == "generate":
        r = bench_generate(model, a.batch, a.seq, a.new_tokens, a.device)
    else:
        r = bench_train(model, a.batch, a.seq, a.p, a.device, a.seconds)
    print(json.dumps(dict(peer="pytorch-eager", torch=torch.__version__, mode=a.mode, shape=a.shape, batch=a.batch,
                          seq=a.seq, device=a.device, threads=torch.get_num_threads(), **r)))


if __name__ == "__main__":
    main()
