"""Tests for seqmodels.embeddings, with gensim's KeyedVectors and scipy as the oracles."""

import pytest
import torch

from seqmodels.embeddings import (
    analogy,
    eval_data_path,
    evaluate_analogies,
    evaluate_word_pairs,
    load_analogies,
    load_word_pairs,
    nearest_neighbours,
    spearman,
)

import gensim.models.keyedvectors as gensim_kv  # noqa: E402  (a declared dependency: never skip)
import scipy.stats as scipy_stats  # noqa: E402


def _keyed_vectors(E, itos):
    kv = gensim_kv.KeyedVectors(E.shape[1])
    kv.add_vectors(itos, E.numpy())
    return kv


def test_evaluation_sets_load_with_expected_sizes():
    questions = load_analogies()
    assert len(questions) == 19544
    assert questions[0] == ("capital-common-countries", "athens", "greece", "baghdad", "iraq")
    assert len({q[0] for q in questions}) == 14
    assert len(load_word_pairs("wordsim353")) == 353
    assert len(load_word_pairs("simlex999")) == 999


def test_missing_file_gives_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither one of"):
        eval_data_path(str(tmp_path / "nope.txt"))


@pytest.fixture(scope="module")
def analogy_embeddings():
    """Random vectors for every analogy word, some questions made solvable on purpose."""
    questions = load_analogies()
    itos = sorted({w for q in questions for w in q[1:]})
    stoi = {w: i for i, w in enumerate(itos)}
    gen = torch.Generator().manual_seed(0)
    E = torch.randn(len(itos), 24, generator=gen)
    U = torch.nn.functional.normalize(E, dim=1)
    picks = torch.randperm(len(questions), generator=gen)[:400].tolist()
    for k in picks:
        _, a, b, c, d = questions[k]
        E[stoi[d]] = U[stoi[b]] - U[stoi[a]] + U[stoi[c]] + 0.05 * torch.randn(24, generator=gen)
        U = torch.nn.functional.normalize(E, dim=1)
    return E, itos, questions


def test_analogy_accuracy_matches_gensim(analogy_embeddings, tmp_path):
    E, itos, questions = analogy_embeddings
    ours = evaluate_analogies(E, itos, questions[:6000], restrict_vocab=600)
    # gensim reads a file: the first 6000 questions with their section headers
    lines, kept = [], 0
    for line in eval_data_path("analogies").read_text().splitlines():
        if kept == 6000:
            break
        lines.append(line)
        kept += not line.startswith(":")
    (tmp_path / "q.txt").write_text("\n".join(lines) + "\n")
    score, sections = _keyed_vectors(E, itos).evaluate_word_analogies(str(tmp_path / "q.txt"), restrict_vocab=600)
    total = sections[-1]
    assert ours["correct"] == len(total["correct"]), (ours["correct"], len(total["correct"]))
    assert ours["answered"] == len(total["correct"]) + len(total["incorrect"])
    assert ours["accuracy"] == pytest.approx(score)
    assert 0.02 < ours["accuracy"] < 0.5, "the planted questions should be answered, the others not"
    assert ours["skipped"] > 0, "restrict_vocab=600 must leave some questions out"


def test_analogy_excludes_query_words_and_finds_planted_answer():
    itos = ["man", "king", "woman", "queen", "apple"]
    E = torch.tensor([[1.0, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [0.1, 0.9, 0.0]])
    assert analogy(E, itos, "man", "king", "woman")[0][0] == "queen"
    # nearest to king itself is king: it must be excluded
    assert nearest_neighbours(E, itos, "king", k=1)[0][0] != "king"
    with pytest.raises(KeyError, match="'prince' is not in the vocabulary"):
        analogy(E, itos, "man", "prince", "woman")


def test_nearest_neighbours_match_gensim_most_similar():
    gen = torch.Generator().manual_seed(1)
    itos = [f"w{i}" for i in range(50)]
    E = torch.randn(50, 8, generator=gen)
    ours = nearest_neighbours(E, itos, "w3", k=5)
    theirs = _keyed_vectors(E, itos).most_similar("w3", topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)


def test_spearman_matches_scipy_with_ties():
    gen = torch.Generator().manual_seed(2)
    x = torch.randint(0, 5, (40,), generator=gen).double()
    y = x + torch.randint(0, 3, (40,), generator=gen).double()
    assert spearman(x, y) == pytest.approx(scipy_stats.spearmanr(x.numpy(), y.numpy())[0], abs=1e-12)


@pytest.mark.parametrize("name", ["wordsim353", "simlex999"])
def test_word_pairs_match_gensim(name):
    pairs = load_word_pairs(name)
    itos = sorted({w for a, b, _ in pairs for w in (a, b)})[::2] + ["unused"]   # about half the words: some OOV
    gen = torch.Generator().manual_seed(3)
    E = torch.randn(len(itos), 16, generator=gen)
    ours = evaluate_word_pairs(E, itos, name)
    pearson, (rho, _), oov = _keyed_vectors(E, itos).evaluate_word_pairs(eval_data_path(name))
    assert ours["spearman"] == pytest.approx(rho, abs=1e-6)
    assert ours["pearson"] == pytest.approx(pearson[0], abs=1e-6)
    assert ours["oov"] * 100 == pytest.approx(oov)
    assert 0 < ours["oov"] < 1


def test_embedding_and_vocab_size_must_agree():
    with pytest.raises(ValueError, match="itos has 2 words but E has 3 rows"):
        nearest_neighbours(torch.zeros(3, 2), ["a", "b"], "a")
