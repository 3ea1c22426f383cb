"""benchmarks/lstm.py runs and reports all three implementations with ratios (tiny sizes)."""

import re

from _helpers import load_benchmark


def test_benchmark_prints_ratios_for_every_implementation(capsys):
    bench = load_benchmark("lstm")
    assert bench.main(["--case", "tiny", "--repeats", "2", "--warmup", "0", "--cpu"]) == 0
    out = capsys.readouterr().out
    assert "case tiny: T=4 B=2 D=8 H=8" in out
    rows = re.findall(r"^  (torch\.nn\.LSTM|fused|plain ops).*?([\d.]+) ms\s+([\d.]+) x torch\.nn\.LSTM$", out, re.M)
    assert [r[0] for r in rows] == ["torch.nn.LSTM", "fused", "plain ops"], out
    assert float(rows[0][2]) == 1.0
    diffs = re.search(r"plain ([\d.e+-]+), fused ([\d.e+-]+)", out)
    assert diffs and float(diffs.group(1)) < 1e-5 and float(diffs.group(2)) < 1e-5, out
