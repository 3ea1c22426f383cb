"""LSTM forward+backward time: plain ops vs the fused fast path vs torch.nn.LSTM (cuDNN on a GPU).

    .venv/bin/python benchmarks/lstm.py              # the cases that fit the device
    .venv/bin/python benchmarks/lstm.py --case gpu   # force one case (gpu or cpu)
    SEQ_LSTM_COMPILE=1 .venv/bin/python benchmarks/lstm.py   # compile the fused cell on CPU too

Cases: "gpu" is batch 64, hidden 1024, sequence 256 (input size 1024), run only on CUDA
unless asked for; "cpu" is batch 16, hidden 128, sequence 64 (input size 128), always run;
"tiny" only checks that the script works.
Times are medians over repeats after warm-up (the warm-up includes any compilation),
float32, one layer, one direction; ratios are to torch.nn.LSTM on the same device.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch import nn

from seqmodels.recurrent import compile_enabled, LSTM

CASES = {
    "gpu": dict(T=256, B=64, D=1024, H=1024),
    "cpu": dict(T=64, B=16, D=128, H=128),
    "tiny": dict(T=4, B=2, D=8, H=8),     # for the smoke test in tests/test_lstm_benchmark.py
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_forward_backward(model: nn.Module, X: torch.Tensor, repeats: int, warmup: int) -> float:
    """Median seconds of one forward + backward (loss = sum of the outputs)."""
    times = []
    for k in range(warmup + repeats):
        model.zero_grad(set_to_none=True)
        X.grad = None
        _sync(X.device)
        start = time.perf_counter()
        out, _ = model(X)
        out.sum().backward()
        _sync(X.device)
        if k >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_case(name: str, device: torch.device, repeats: int, warmup: int) -> None:
    sizes = CASES[name]
    T, B, D, H = sizes["T"], sizes["B"], sizes["D"], sizes["H"]
    gen = torch.Generator().manual_seed(0)
    plain = LSTM(D, H, generator=gen).to(device)
    reference = plain.to_torch()                      # cuDNN on CUDA, torch's own kernels on CPU
    fused = LSTM.from_torch(reference, fused=True)
    X = torch.randn(T, B, D, generator=gen).to(device).requires_grad_()

    with torch.no_grad():
        out_ref = reference(X)[0]
        diffs = {"plain": (plain(X)[0] - out_ref).abs().max().item(),
                 "fused": (fused(X)[0] - out_ref).abs().max().item()}

    label_ref = "torch.nn.LSTM (cuDNN)" if device.type == "cuda" else "torch.nn.LSTM (CPU)"
    label_fused = "fused (" + ("torch.compile cell" if compile_enabled(device) else "eager cell") + ")"
    rows = [(label_ref, reference), (label_fused, fused), ("plain ops (seqmodels.recurrent.LSTM)", plain)]
    results = {label: time_forward_backward(m, X, repeats, warmup) for label, m in rows}
    base = results[label_ref]
    print(f"\ncase {name}: T={T} B={B} D={D} H={H}, float32, forward+backward, "
          f"median of {repeats} after {warmup} warm-up")
    print(f"  max |output - torch.nn.LSTM|: plain {diffs['plain']:.1e}, fused {diffs['fused']:.1e}")
    for label, seconds in results.items():
        print(f"  {label:34s} {1e3 * seconds:9.2f} ms   {seconds / base:6.2f} x torch.nn.LSTM")


def _run(args, tf32: bool) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    cases = args.case or (["gpu", "cpu"] if device.type == "cuda" else ["cpu"])

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, device {device} ({name}), CPU threads {torch.get_num_threads()}")
    if device.type == "cuda":
        print(f"cuDNN {torch.backends.cudnn.version()}, enabled: {torch.backends.cudnn.enabled}; "
              f"TF32 for matmul and cuDNN: {tf32}")
    print(f"fused cell compiled with torch.compile: {compile_enabled(device)} (SEQ_LSTM_COMPILE overrides)")
    if device.type != "cuda" and "gpu" not in cases:
        print("no CUDA device: the GPU case (B=64, H=1024, T=256) is not run; pass --case gpu to run it on CPU")
    for case in cases:
        run_case(case, device, args.repeats, args.warmup)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="case to run (repeatable); default: gpu on CUDA, and cpu")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when CUDA is available")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for torch (default: torch's choice); 1 avoids thread "
                             "contention on a shared machine")
    parser.add_argument("--precision", choices=["tf32", "fp32"], default="tf32",
                        help="CUDA float32 matmuls: cuDNN uses TF32 by default and plain torch matmuls "
                             "do not; the same setting is applied to both so the comparison is fair "
                             "(default tf32, cuDNN's default)")
    args = parser.parse_args(argv)
    tf32 = args.precision == "tf32"
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.get_num_threads())
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    try:
        _run(args, tf32)
    finally:  # main() is also called from a test: leave the process as it was
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[:2]
        torch.set_num_threads(saved[2])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
