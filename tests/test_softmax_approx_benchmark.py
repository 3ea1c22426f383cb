"""benchmarks/softmax_approx.py runs and reports the three output layers with ratios (tiny sizes)."""

import importlib.util
import re
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "softmax_approx.py"


def test_benchmark_prints_a_row_per_output_layer_and_vocabulary(capsys):
    spec = importlib.util.spec_from_file_location("bench_softmax_approx", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--tiny", "--vocab", "30", "--vocab", "70", "--repeats", "1", "--warmup", "0", "--cpu"]) == 0
    out = capsys.readouterr().out
    assert "GPU figures are not measured" in out
    rows = re.findall(r"^\s+(\d+)\s+(full|nce|hsm)\s+([\d.]+)\s+([\d.]+)x", out, re.M)
    assert [(int(v), o) for v, o, _, _ in rows] == [(v, o) for v in (30, 70) for o in ("full", "nce", "hsm")], out
    assert all(float(sps) > 0 for _, _, sps, _ in rows)
    assert [float(r) for _, o, _, r in rows if o == "full"] == [1.0, 1.0]
