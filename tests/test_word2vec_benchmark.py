"""Smoke test of benchmarks/word2vec.py on a sliver of WikiText-2 (needs the data and gensim)."""

import json

import pytest

from _helpers import load_benchmark


def test_benchmark_runs_on_a_sliver(tmp_path):
    # needs WikiText-2 like the other real-data tests: `make test` points SEQ_DATA_DIR at ../shared/data;
    # without it the data layer's MissingDataError says where the file is expected
    bench = load_benchmark("word2vec")
    out = tmp_path / "r.json"
    assert bench.main(["--max-lines", "150", "--epochs", "1", "--dim", "16", "--threads", "1", "--workers", "1",
                       "--device", "cpu", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    for name in ("ours", "gensim"):
        assert r[name]["words"] == r["tokens"], f"{name} must process every token once in one epoch"
        assert r[name]["words_per_second"] > 0
        for score in ("analogy", "wordsim353", "simlex999"):
            assert -1 <= r[name][score] <= 1 or r[name][score] != r[name][score]   # nan when nothing answered
    assert r["ratio"] == pytest.approx(r["ours"]["words_per_second"] / r["gensim"]["words_per_second"])
