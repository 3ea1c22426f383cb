"""Intrinsic evaluation of word vectors: analogies, word similarity, neighbours.

The evaluation sets are the ones shipped inside the ``gensim`` wheel
(``gensim/test/test_data``): the Google analogy set ``questions-words.txt``
(19,544 questions in 14 sections), WordSim-353 ``wordsim353.tsv`` and
SimLex-999 ``simlex999.txt``. They are found without importing gensim.

The scores follow gensim's ``KeyedVectors.evaluate_word_analogies`` and
``evaluate_word_pairs`` (case-insensitive, questions with a word outside the
vocabulary are skipped and counted), so the numbers are comparable with a
gensim model trained on the same corpus; the tests check that they agree.

Embeddings are an (V, D) float tensor ``E`` whose row i is the vector of
``itos[i]``; ``itos`` lists the words by decreasing frequency, so
``restrict_vocab=n`` means "the n most frequent words".
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from .._checks import check_tensor

__all__ = [
    "analogy",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "eval_data_path",
    "load_analogies",
    "load_word_pairs",
    "nearest_neighbours",
    "spearman",
]

EVAL_FILES = {
    "analogies": "questions-words.txt",
    "wordsim353": "wordsim353.tsv",
    "simlex999": "simlex999.txt",
}


def eval_data_path(name: str) -> Path:
    """Path of an evaluation file inside the installed gensim package.

    Args:
        name: ``"analogies"``, ``"wordsim353"``, ``"simlex999"``, or a path to
            a file in the same format.
    """
    if name not in EVAL_FILES:
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"{name!r} is neither one of {sorted(EVAL_FILES)} nor an existing file")
        return path
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the evaluation sets ship inside the gensim package, which is not installed: "
            "pip install gensim (it is listed in the course dependencies)")
    path = Path(list(spec.submodule_search_locations)[0]) / "test" / "test_data" / EVAL_FILES[name]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from this gensim installation")
    return path


def load_analogies(name: str = "analogies", lowercase: bool = True) -> list[tuple[str, str, str, str, str]]:
    """Analogy questions ``(section, a, b, c, d)``: a is to b as c is to d.

    The file has ``: section`` lines followed by ``a b c d`` lines.
    """
    questions, section = [], None
    for number, line in enumerate(eval_data_path(name).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        words = line.lower().split() if lowercase else line.split()
        if len(words) != 4 or section is None:
            raise ValueError(f"{name} line {number}: expected 'a b c d' after a ': section' line, got {line!r}")
        questions.append((section, *words))
    return questions


def load_word_pairs(name: str = "wordsim353", lowercase: bool = True) -> list[tuple[str, str, float]]:
    """Word-similarity pairs ``(word1, word2, human score)``; ``#`` lines are comments."""
    pairs = []
    for number, line in enumerate(eval_data_path(name).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3:
            raise ValueError(f"{name} line {number}: expected 'word1<TAB>word2<TAB>score', got {line!r}")
        w1, w2 = (cols[0].lower(), cols[1].lower()) if lowercase else (cols[0], cols[1])
        pairs.append((w1, w2, float(cols[2])))
    return pairs


def _unit(E: torch.Tensor) -> torch.Tensor:
    check_tensor("E", E, ("V", "D"))
    return F.normalize(E.float(), dim=1)


def _stoi(itos: Sequence[str], E: torch.Tensor) -> dict[str, int]:
    if len(itos) != E.shape[0]:
        raise ValueError(f"itos has {len(itos)} words but E has {E.shape[0]} rows")
    stoi: dict[str, int] = {}
    for i, word in enumerate(itos):
        stoi.setdefault(word.lower(), i)   # case-insensitive: the most frequent spelling wins
    return stoi


def nearest_neighbours(E: torch.Tensor, itos: Sequence[str], query, k: int = 10,
                       exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
    """The k words with the largest cosine similarity to ``query``.

    Args:
        query: a word (excluded from its own neighbours) or a (D,) vector.
        exclude: further words never returned.
    """
    U = _unit(E)
    stoi = _stoi(itos, E)
    banned = set(exclude)
    if isinstance(query, str):
        if query.lower() not in stoi:
            raise KeyError(f"{query!r} is not in the vocabulary")
        banned.add(query.lower())
        q = U[stoi[query.lower()]]
    else:
        q = F.normalize(torch.as_tensor(query, dtype=U.dtype, device=U.device).reshape(-1), dim=0)
    sims = U @ q
    for word in banned:
        if word.lower() in stoi:
            sims[stoi[word.lower()]] = -float("inf")
    top = sims.topk(min(k, len(itos) - len(banned)))
    return [(itos[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())]


def analogy(E: torch.Tensor, itos: Sequence[str], a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
    """a is to b as c is to ?: the words nearest (cosine) to b - a + c, excluding a, b, c.

    With unit vectors, as in gensim's ``most_similar(positive=[b, c], negative=[a])``.
    ``analogy(E, itos, "man", "king", "woman")`` should give ``queen``.
    """
    U = _unit(E)
    stoi = _stoi(itos, E)
    for word in (a, b, c):
        if word.lower() not in stoi:
            raise KeyError(f"{word!r} is not in the vocabulary")
    q = U[stoi[b.lower()]] - U[stoi[a.lower()]] + U[stoi[c.lower()]]
    return nearest_neighbours(E, itos, q, k, exclude=(a.lower(), b.lower(), c.lower()))


def evaluate_analogies(E: torch.Tensor, itos: Sequence[str], questions=None, restrict_vocab: int = 300_000,
                       batch_size: int = 2048) -> dict:
    """Accuracy on analogy questions, as gensim's ``evaluate_word_analogies``.

    Only the ``restrict_vocab`` most frequent words are candidates, and a
    question is skipped when one of its four words is not among them.

    Returns:
        dict with ``accuracy`` (correct / answered), ``correct``, ``answered``,
        ``skipped``, ``semantic`` and ``syntactic`` accuracies (sections whose
        name starts with ``gram`` are syntactic) and ``sections``
        ``{name: (correct, answered)}``.
    """
    questions = load_analogies() if questions is None else questions
    n = min(restrict_vocab, E.shape[0])
    U = _unit(E)[:n]
    stoi = {w: i for w, i in _stoi(itos, E).items() if i < n}
    rows, names, skipped = [], [], 0
    for section, a, b, c, d in questions:
        try:
            rows.append([stoi[a.lower()], stoi[b.lower()], stoi[c.lower()], stoi[d.lower()]])
            names.append(section)
        except KeyError:
            skipped += 1
    correct_flags: list[bool] = []
    if rows:
        Q = torch.tensor(rows, device=U.device)
        for s in range(0, Q.shape[0], batch_size):
            q = Q[s:s + batch_size]
            target = F.normalize(U[q[:, 1]] - U[q[:, 0]] + U[q[:, 2]], dim=1)
            sims = target @ U.T
            sims.scatter_(1, q[:, :3], -float("inf"))
            correct_flags += (sims.argmax(1) == q[:, 3]).tolist()
    sections: dict[str, list[int]] = {}
    for name, ok in zip(names, correct_flags):
        entry = sections.setdefault(name, [0, 0])
        entry[0] += int(ok)
        entry[1] += 1

    def acc(keys):
        c = sum(sections[k][0] for k in keys)
        t = sum(sections[k][1] for k in keys)
        return c / t if t else float("nan")

    semantic = [k for k in sections if not k.startswith("gram")]
    syntactic = [k for k in sections if k.startswith("gram")]
    return {
        "accuracy": acc(list(sections)),
        "correct": sum(correct_flags),
        "answered": len(correct_flags),
        "skipped": skipped,
        "semantic": acc(semantic),
        "syntactic": acc(syntactic),
        "sections": {k: tuple(v) for k, v in sections.items()},
    }


def _ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n with ties given their average rank (as scipy.stats.rankdata)."""
    order = x.argsort(stable=True)
    sorted_x = x[order]
    ranks = torch.empty_like(x)
    i, n = 0, x.numel()
    values = sorted_x.tolist()
    while i < n:
        j = i
        while j + 1 < n and values[j + 1] == values[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x, y) -> float:
    """Spearman rank correlation: Pearson correlation of the (average-tie) ranks."""
    x = torch.as_tensor(x, dtype=torch.float64).reshape(-1)
    y = torch.as_tensor(y, dtype=torch.float64).reshape(-1)
    if x.numel() != y.numel() or x.numel() < 2:
        raise ValueError(f"spearman: expected two sequences of the same length >= 2, got {x.numel()} and {y.numel()}")
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / (rx.norm() * ry.norm()))


def evaluate_word_pairs(E: torch.Tensor, itos: Sequence[str], pairs="wordsim353",
                        restrict_vocab: int = 300_000) -> dict:
    """Spearman correlation between cosine similarities and human scores.

    Pairs with a word outside the ``restrict_vocab`` most frequent words are
    skipped (as gensim's ``evaluate_word_pairs`` without ``dummy4unknown``).

    Args:
        pairs: a list of ``(word1, word2, score)`` or a name for
            :func:`load_word_pairs` (``"wordsim353"``, ``"simlex999"``).

    Returns:
        dict with ``spearman``, ``pearson``, ``n`` (pairs used) and ``oov``
        (fraction of pairs skipped).
    """
    if isinstance(pairs, str):
        pairs = load_word_pairs(pairs)
    n = min(restrict_vocab, E.shape[0])
    U = _unit(E)[:n]
    stoi = {w: i for w, i in _stoi(itos, E).items() if i < n}
    found = [(stoi[a.lower()], stoi[b.lower()], s) for a, b, s in pairs
             if a.lower() in stoi and b.lower() in stoi]
    if len(found) < 2:
        raise ValueError(f"only {len(found)} of {len(pairs)} pairs are in the vocabulary; cannot correlate")
    i = torch.tensor([f[0] for f in found], device=U.device)
    j = torch.tensor([f[1] for f in found], device=U.device)
    cos = (U[i] * U[j]).sum(1).double().cpu()
    human = torch.tensor([f[2] for f in found], dtype=torch.float64)
    pearson = float(torch.corrcoef(torch.stack([cos, human]))[0, 1])
    return {"spearman": spearman(cos, human), "pearson": pearson, "n": len(found),
            "oov": 1 - len(found) / len(pairs)}
