"""Batched vs one-sentence-at-a-time decoding throughput (sentences/s), with identical outputs checked.

    .venv/bin/python benchmarks/decoding.py                 # CPU, and CUDA when available
    .venv/bin/python benchmarks/decoding.py --device cpu --sentences 32 --beam 4

The model is a GRU decoder with random weights, used like the decoder of a
seq2seq model: each sentence has its own initial state (as if from an
encoder) and its own start token. `seqmodels.decoding.beam_search` decodes

  * batched: all B sentences x K beams in one batch of B*K rows per step;
  * one at a time: B calls with one sentence (K rows per step);

and greedy search the same two ways. Both must give the same tokens and
(up to rounding) the same scores; the script exits with status 1 otherwise.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time

import torch

from seqmodels.decoding import beam_search, greedy_search, Hypotheses
from seqmodels.lm import RNNLM


def random_decoder(V: int, E: int, H: int, eos: int, generator: torch.Generator) -> RNNLM:
    """Embedding -> GRU -> W_hy h + b_y (seqmodels.lm.RNNLM), with random weights that give peaked,
    varied next-token distributions; its ``step`` is the decoders' step function (state_batch_dim=1)."""
    model = RNNLM(V, E, H, cell="gru")
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-1 / math.sqrt(H), 1 / math.sqrt(H), generator=generator)
        model.E.weight.normal_(0, 1, generator=generator)
        model.W_hy.weight.mul_(6.0)          # sharper next-token distributions
        model.W_hy.bias[eos] = 0.5           # sentences end, after a while
    return model.eval()


def timed(fn, device: torch.device, repeats: int):
    """Best wall time of `repeats` runs (after one warm-up run) and the last result."""
    result = fn()
    best = math.inf
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best, result


def stack_hypotheses(parts: list[Hypotheses]) -> Hypotheses:
    """Concatenate one-sentence results along the batch dimension (padding tokens to one length)."""
    L = max(p.tokens.shape[2] for p in parts)
    pad = lambda t: torch.nn.functional.pad(t, (0, L - t.shape[2]), value=-1)  # noqa: E731
    return Hypotheses(torch.cat([pad(p.tokens) for p in parts]), torch.cat([p.lengths for p in parts]),
                      torch.cat([p.log_probs for p in parts]), torch.cat([p.scores for p in parts]),
                      torch.cat([p.finished for p in parts]))


def same_outputs(a: Hypotheses, b: Hypotheses) -> tuple[bool, str]:
    """Same tokens (within each hypothesis's length) and scores equal up to float rounding."""
    if not torch.equal(a.lengths, b.lengths):
        return False, f"lengths differ in {(a.lengths != b.lengths).sum().item()} hypotheses"
    L = int(a.lengths.max())
    mask = torch.arange(L, device=a.tokens.device) < a.lengths[..., None]
    if not torch.equal(a.tokens[..., :L] * mask, b.tokens[..., :L] * mask):
        return False, "tokens differ"
    gap = (a.scores - b.scores).abs().max().item()
    if gap > 1e-4:
        return False, f"scores differ by up to {gap:.1e}"
    return True, f"identical tokens, max score difference {gap:.1e}"


@torch.no_grad()  # decoding only: no graph behind the step calls
def run(device: torch.device, args) -> bool:
    g = torch.Generator().manual_seed(args.seed)
    model = random_decoder(args.vocab, args.embed, args.hidden, eos=0, generator=g).to(device)
    B = args.sentences
    h0 = (torch.randn(1, B, args.hidden, generator=g) * 0.5).to(device)     # one "encoder state" per sentence
    bos = torch.randint(1, args.vocab, (B,), generator=g).to(device)
    common = dict(eos=0, max_len=args.max_len, state_batch_dim=1)

    searches = {
        f"beam K={args.beam}": lambda h, b: beam_search(model.step, h, bos=b, beam_size=args.beam,
                                                        length_penalty=0.6, **common),
        "greedy": lambda h, b: greedy_search(model.step, h, bos=b, **common),
    }
    all_ok = True
    for name, search in searches.items():
        t_batched, batched = timed(lambda: search(h0, bos), device, args.repeats)
        t_single, single = timed(lambda: stack_hypotheses([search(h0[:, i:i + 1], bos[i:i + 1])
                                                            for i in range(B)]), device, args.repeats)
        ok, detail = same_outputs(batched, single)
        all_ok &= ok
        mean_len = batched.lengths[:, 0].double().mean().item()
        print(f"  {name:10s} batched {B / t_batched:9.1f} sentences/s ({t_batched * 1e3:8.1f} ms)   "
              f"one at a time {B / t_single:8.1f} sentences/s ({t_single * 1e3:8.1f} ms)   "
              f"speed-up x{t_single / t_batched:5.1f}   mean length {mean_len:4.1f}   "
              f"{'OK' if ok else 'MISMATCH'}: {detail}")
    return all_ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="auto: the CPU, then CUDA when available")
    parser.add_argument("--sentences", type=int, default=64, help="B, sentences decoded")
    parser.add_argument("--beam", type=int, default=5, help="K, beam size")
    parser.add_argument("--max-len", type=int, default=40)
    parser.add_argument("--vocab", type=int, default=64)
    parser.add_argument("--embed", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (torch.set_num_threads); with rows this small, more threads "
                             "mostly add synchronization, badly so on a shared machine")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    devices = []
    if args.device in ("auto", "cpu"):
        devices.append(torch.device("cpu"))
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            print("error: --device cuda but torch.cuda.is_available() is False", file=sys.stderr)
            return 2
        devices.append(torch.device("cuda"))

    print(f"torch {torch.__version__}, Python {platform.python_version()}, "
          f"{torch.get_num_threads()} CPU threads")
    print(f"GRU decoder V={args.vocab}, E={args.embed}, H={args.hidden}; B={args.sentences} sentences, "
          f"max_len={args.max_len}, beam K={args.beam} with GNMT length penalty 0.6; float32; "
          f"best of {args.repeats} runs")
    if args.device == "auto" and not torch.cuda.is_available():
        print("(no CUDA device: GPU figures not measured)")
    all_ok = True
    for device in devices:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
        print(f"device {device} ({name}):")
        all_ok &= run(device, args)
    if not all_ok:
        print("FAILED: batched and one-at-a-time decoding disagree", file=sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
