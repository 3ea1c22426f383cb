"""Conditional language models (chapter 8): encoder-decoder with attention, training, translation, BLEU.

Modules, in the order the chapter introduces them:

- ``attention``: Attention over a source sentence for encoder–decoder models (chapter 8).
- ``model``: Encoder–decoder models with attention (chapter 8): a conditional language model
- ``training``: Training an encoder-decoder by teacher forcing (chapter 8): loss, one update, mini-batches, epochs.
- ``translate``: Translating with a trained encoder-decoder: greedy or beam search over its decoder (chapters 7-8).
- ``text``: Word-level text for translation: split punctuation off words, and join tokens back for BLEU.
- ``bleu``: BLEU (Papineni et al., 2002): corpus-level n-gram precision with a brevity penalty.
"""

from .attention import (
    ATTENTION_KINDS,
    Attention,
    additive_energies,
    attention_context,
    lecture_attention,
    length_mask,
    masked_softmax,
    multiplicative_energies,
)
from .model import AttentionDecoder, DecoderState, Encoder, Seq2Seq
from .training import batch_pairs, fit, sequence_nll, teacher_forcing_loss, train_step
from .translate import translate
from .text import detokenize, split_punctuation
from .bleu import BleuStats, bleu_from_tokens, sacre_bleu

__all__ = [
    "ATTENTION_KINDS",
    "Attention",
    "AttentionDecoder",
    "BleuStats",
    "DecoderState",
    "Encoder",
    "Seq2Seq",
    "additive_energies",
    "attention_context",
    "batch_pairs",
    "bleu_from_tokens",
    "detokenize",
    "fit",
    "lecture_attention",
    "length_mask",
    "masked_softmax",
    "multiplicative_energies",
    "sacre_bleu",
    "sequence_nll",
    "split_punctuation",
    "teacher_forcing_loss",
    "train_step",
    "translate",
]
