r"""BLEU (Papineni et al., 2002): corpus-level n-gram precision with a brevity penalty.

    p_n  = sum over sentences of the clipped n-gram matches
           / sum over sentences of the hypothesis n-grams            (n = 1..4)
    BP   = 1 if c > r else exp(1 - r / c)      c, r: hypothesis, reference words
    BLEU = 100 * BP * exp(mean_n log p_n)

"Clipped": an n-gram counts at most as often as it occurs in the reference.
``bleu_from_tokens`` computes this from scratch, on tokens you give it, for
the book; ``sacre_bleu`` is the number to report (Post, 2018): sacrebleu's
own tokenizer on detokenized text, so scores are comparable across papers.
With ``tokenize="none"`` and ``smooth="none"`` the two agree exactly.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

__all__ = ["BleuStats", "bleu_from_tokens", "sacre_bleu"]


@dataclass
class BleuStats:
    """score (0..100), precisions p_1..p_N (0..1), brevity penalty, word counts c and r."""

    score: float
    precisions: list[float]
    brevity_penalty: float
    hyp_len: int
    ref_len: int


def _ngrams(words: Sequence[str], n: int) -> Counter:
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def _check_corpus(hypotheses, references):
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise TypeError("hypotheses, references: expected lists of sentences, got a single string")
    if len(hypotheses) != len(references):
        raise ValueError(f"got {len(hypotheses)} hypotheses but {len(references)} references; "
                         "BLEU pairs them one to one")
    if not hypotheses:
        raise ValueError("BLEU of an empty corpus is undefined")


def bleu_from_tokens(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]],
                     max_n: int = 4) -> BleuStats:
    """Corpus BLEU of tokenized hypotheses against one tokenized reference each (no smoothing)."""
    _check_corpus(hypotheses, references)
    matches, totals = [0] * max_n, [0] * max_n
    c = r = 0
    for hyp, ref in zip(hypotheses, references):
        c, r = c + len(hyp), r + len(ref)
        for n in range(1, max_n + 1):
            h, g = _ngrams(hyp, n), _ngrams(ref, n)
            matches[n - 1] += sum(min(k, g[ng]) for ng, k in h.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    precisions = [m / t if t else 0.0 for m, t in zip(matches, totals)]
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c else 0.0)
    if min(precisions) == 0.0:
        return BleuStats(0.0, precisions, bp, c, r)
    score = 100 * bp * math.exp(sum(math.log(p) for p in precisions) / max_n)
    return BleuStats(score, precisions, bp, c, r)


def sacre_bleu(hypotheses: Sequence[str], references: Sequence[str], *, tokenize: str = "13a",
               smooth: str = "exp", lowercase: bool = False) -> BleuStats:
    """sacrebleu's corpus BLEU of detokenized strings against one reference each."""
    _check_corpus(hypotheses, references)
    try:
        import sacrebleu
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("sacre_bleu needs the package sacrebleu (pip install sacrebleu)") from err
    res = sacrebleu.corpus_bleu(list(hypotheses), [list(references)], tokenize=tokenize,
                                smooth_method=smooth, lowercase=lowercase)
    return BleuStats(res.score, [p / 100 for p in res.precisions], res.bp, res.sys_len, res.ref_len)
