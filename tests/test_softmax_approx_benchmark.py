"""benchmarks/softmax_approx.py runs and reports the three output layers with ratios (tiny sizes)."""

import re

from _helpers import load_benchmark


def test_benchmark_prints_a_row_per_output_layer_and_vocabulary(capsys):
    bench = load_benchmark("softmax_approx")
    assert bench.main(["--tiny", "--vocab", "30", "--vocab", "70", "--repeats", "1", "--warmup", "0", "--cpu"]) == 0
    out = capsys.readouterr().out
    assert "GPU figures are not measured" in out
    rows = re.findall(r"^\s+(\d+)\s+(full|nce|hsm)\s+([\d.]+)\s+([\d.]+)x", out, re.M)
    assert [(int(v), o) for v, o, _, _ in rows] == [(v, o) for v in (30, 70) for o in ("full", "nce", "hsm")], out
    assert all(float(sps) > 0 for _, _, sps, _ in rows)
    assert [float(r) for _, o, _, r in rows if o == "full"] == [1.0, 1.0]
