"""Reference implementations for the sequence-modeling course, one subpackage per part of the book.

- ``seqmodels.recurrent``: chapters 1-3, the Elman RNN and BPTT, vanishing/exploding gradients, LSTM and GRU
- ``seqmodels.lm``: chapter 4, n-gram and recurrent language models and their training loop
- ``seqmodels.embeddings``: chapter 5, word2vec, the unigram^0.75 noise distribution, evaluation
- ``seqmodels.softmax``: chapter 6, noise-contrastive estimation, Huffman trees, hierarchical softmax
- ``seqmodels.decoding``: chapter 7, greedy, beam and exhaustive search over a step function, sampling
- ``seqmodels.seq2seq``: chapter 8, encoder-decoder with attention, training, translation, BLEU
- ``seqmodels.transformer``: chapter 9, self-attention, positions, transformer blocks and models
- ``seqmodels.data``: corpora (download, cache, sha256), vocabularies and batching
- ``seqmodels.tasks``: synthetic tasks that train in seconds
- ``seqmodels.specials``: the special tokens <pad>, <unk>, <bos>, <eos> and their ids

Conventions (see reference/README.md): tensors are time-major, (T, B, ...), unless a docstring says
otherwise; argument checks live in ``seqmodels._checks``, padding lengths and masks in
``seqmodels._sequence``.
"""

from . import data, decoding, embeddings, lm, recurrent, seq2seq, softmax, specials, tasks, transformer

__all__ = ["data", "decoding", "embeddings", "lm", "recurrent", "seq2seq", "softmax", "specials", "tasks",
           "transformer"]
