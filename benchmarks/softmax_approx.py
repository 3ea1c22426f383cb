"""Training steps per second of an LSTM language model: full softmax vs NCE vs hierarchical softmax.

    .venv/bin/python benchmarks/softmax_approx.py                 # |V| = 10k, 33k, 100k on the best device
    .venv/bin/python benchmarks/softmax_approx.py --vocab 10000   # one size (repeatable)
    .venv/bin/python benchmarks/softmax_approx.py --cpu --threads 1

One step = embedding -> one-layer LSTM -> output layer -> loss -> backward -> Adam update, for a
(T, B) batch of synthetic word ids drawn from a Zipf distribution over |V| words (the speed does
not depend on the text; the Zipf law makes the Huffman tree realistic). Output layers:

  full:  F.cross_entropy(h @ W_hy^T + b_y, y)                 O(|V| H) per position
  nce:   seqmodels.softmax.NCEOutput, k noise words shared by the batch, unigram q (power 1)
  hsm:   seqmodels.softmax.HierarchicalSoftmax over the Huffman tree of the Zipf counts  O(L(w) H)

Times are medians over repeats after warm-up, float32; ratios are steps/s against the full softmax
on the same device in the same run. "tiny" sizes (--tiny) only check that the script works.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F

from seqmodels.softmax import expected_code_length, HierarchicalSoftmax, huffman_tree, NCEOutput
from seqmodels.embeddings import NoiseSampler

VOCABS = (10_000, 33_278, 100_000)
SIZES = dict(T=35, B=20, E=256, H=256, k=100)
TINY = dict(T=4, B=2, E=8, H=8, k=5)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class LM(nn.Module):
    def __init__(self, V: int, output: str, counts: torch.Tensor, E: int, H: int, k: int):
        super().__init__()
        self.output = output
        self.embed, self.lstm = nn.Embedding(V, E), nn.LSTM(E, H)
        if output == "full":
            self.out = nn.Linear(H, V)
        elif output == "nce":
            self.out = NCEOutput(H, NoiseSampler(counts, power=1.0), k=k)
        else:
            self.out = HierarchicalSoftmax(huffman_tree(counts), H)

    def loss(self, x, y, generator):
        h = self.lstm(self.embed(x))[0].reshape(-1, self.lstm.hidden_size)
        y = y.reshape(-1)
        if self.output == "full":
            return F.cross_entropy(self.out(h), y)
        if self.output == "nce":
            return self.out(h, y, generator=generator)
        return -self.out(h, y).mean()


def steps_per_second(V: int, output: str, device: torch.device, sizes: dict, repeats: int, warmup: int) -> float:
    gen = torch.Generator().manual_seed(0)
    counts = 1.0 / torch.arange(1, V + 1, dtype=torch.float64)          # Zipf
    model = LM(V, output, counts.to(device), sizes["E"], sizes["H"], sizes["k"]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    T, B = sizes["T"], sizes["B"]
    ids = torch.multinomial(counts, (T + 1) * B, replacement=True, generator=gen).view(T + 1, B).to(device)
    x, y = ids[:-1], ids[1:]
    sample_gen = torch.Generator(device=device).manual_seed(1)
    times = []
    for i in range(warmup + repeats):
        _sync(device)
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        model.loss(x, y, sample_gen).backward()
        opt.step()
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return 1.0 / statistics.median(times)


def run(vocabs, device: torch.device, sizes: dict, repeats: int, warmup: int) -> list[dict]:
    print(f"\nsizes: T={sizes['T']} B={sizes['B']} (one step = {sizes['T'] * sizes['B']} positions), "
          f"E={sizes['E']} H={sizes['H']}, NCE k={sizes['k']}; float32, median of {repeats} after {warmup} warm-up")
    print(f"{'|V|':>8s} {'output':>6s} {'steps/s':>9s} {'vs full':>8s}   notes")
    rows = []
    for V in vocabs:
        base = None
        for output in ("full", "nce", "hsm"):
            sps = steps_per_second(V, output, device, sizes, repeats, warmup)
            base = base or sps
            note = ""
            if output == "hsm":
                counts = 1.0 / torch.arange(1, V + 1, dtype=torch.float64)
                note = f"mean Huffman path {expected_code_length(huffman_tree(counts), counts):.1f} nodes"
            print(f"{V:8d} {output:>6s} {sps:9.2f} {sps / base:7.2f}x   {note}", flush=True)
            rows.append(dict(V=V, output=output, steps_per_s=sps, ratio=sps / base))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", type=int, action="append", help="vocabulary size (repeatable); default 10k, 33k, 100k")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when CUDA is available")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args(argv)
    saved_threads = torch.get_num_threads()
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
        print(f"torch {torch.__version__}, device {device} ({name}), CPU threads {torch.get_num_threads()}")
        if device.type != "cuda":
            print("no CUDA device used: GPU figures are not measured by this run")
        run(args.vocab or ([50, 200] if args.tiny else list(VOCABS)), device,
            TINY if args.tiny else SIZES, args.repeats, args.warmup)
    finally:  # main() is also called from a test: leave the process as it was
        torch.set_num_threads(saved_threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
