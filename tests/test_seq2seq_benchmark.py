"""benchmarks/seq2seq_multi30k.py runs end to end on a sliver of Multi30k (tiny model, seconds)."""

import re

from _helpers import load_benchmark


def test_benchmark_trains_decodes_and_reports_greedy_and_beam(capsys, tmp_path):
    bench = load_benchmark("seq2seq_multi30k")
    res = bench.main(["--device", "cpu", "--small", "--minutes", "0.02", "--emb", "8", "--hidden", "8",
                      "--train-pairs", "300", "--val-pairs", "50", "--test-pairs", "20", "--beam", "3",
                      "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert "device: CPU" in out and "300 training pairs, 50 validation, 20 test" in out, out
    assert re.search(r"^epoch  1  steps +\d+", out, re.M), out
    assert re.search(r"greedy: sacreBLEU [\d.]+", out) and re.search(r"beam 3: sacreBLEU [\d.]+", out), out
    assert "beam 3 / greedy" in out and "goal (>= 28 BLEU within 10 minutes on a GPU): not met" in out
    assert 0 <= res["bleu_beam1"] <= 100 and res["steps"] >= 1
    assert (tmp_path / "r.json").exists()
