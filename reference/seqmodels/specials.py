"""The special tokens and their ids: one numbering for every vocabulary and model of the course.

``Vocab`` puts them first, in this order, so a vocabulary built with the defaults and a model built
with the defaults (``Seq2Seq``, ``TransformerSeq2Seq``, ``batch_pairs``) agree on what each id means.
"""

from __future__ import annotations

PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN = "<pad>", "<unk>", "<bos>", "<eos>"
#: in id order: SPECIALS[i] is the token of id i
SPECIALS = (PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN)
PAD, UNK, BOS, EOS = range(len(SPECIALS))

__all__ = ["SPECIALS", "PAD", "UNK", "BOS", "EOS", "PAD_TOKEN", "UNK_TOKEN", "BOS_TOKEN", "EOS_TOKEN"]
