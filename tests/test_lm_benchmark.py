"""benchmarks/language_models.py runs end to end on tiny made-up corpora and writes its table."""

import json
import math

import torch

from _helpers import load_benchmark


def test_benchmark_writes_every_row(tmp_path, monkeypatch):
    bench = load_benchmark("language_models")
    gen = torch.Generator().manual_seed(0)
    words = [f"w{i}" for i in range(40)]

    def lines(n):
        return [" " + " ".join(words[j] for j in torch.randint(0, 40, (8,), generator=gen).tolist()) + " "
                for _ in range(n)]

    corpus = {"train": lines(300), "valid": lines(30), "test": lines(30)}
    monkeypatch.setattr(bench, "load_wikitext2", lambda split: corpus[split])
    monkeypatch.setattr(bench, "load_tiny_shakespeare", lambda: "To be, or not to be:\nthat is it.\n" * 200)
    out = tmp_path / "lm.json"
    assert bench.main(["--word-steps", "2", "--char-steps", "2", "--max-vocab", "20", "--hidden", "8",
                       "--char-hidden", "8", "--eval-tokens", "0", "--cpu", "--threads", "1",
                       "--json", str(out)]) == 0
    table = json.loads(out.read_text())
    names = [r["model"] for r in table["rows"]]
    assert names == ["1-gram, kneser-ney", "2-gram, add", "2-gram, kneser-ney", "3-gram, kneser-ney",
                     "4-gram, kneser-ney", "3-gram, kneser-ney, full |V| = 42", "RNN (tanh)", "LSTM",
                     "char LSTM"], names
    assert table["meta"]["word_vocab"] == 20 and table["meta"]["char_vocab"] == 16
    for row in table["rows"]:
        assert 1 < row["valid_ppl"] < math.inf and 1 < row["test_ppl"] < math.inf, row
        if row["steps"] is not None:
            assert row["steps"] == 2 and row["train_tokens"] > 0, row
    # 20 types incl. <unk> and <eos>: no model of the 20-word vocabulary is worse than 20 x uniform
    assert all(r["valid_ppl"] < 400 for r in table["rows"][:5])
