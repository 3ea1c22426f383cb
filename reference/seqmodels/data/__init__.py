"""Data layer of the course: corpora, tokenizers, vocabulary, batching.

Corpora (see ``shared/data/README.md`` for sources and licences)::

    from seqmodels.data import (load_tiny_shakespeare, load_wikitext2,
                                load_fra_eng, load_multi30k)
    text = load_tiny_shakespeare()            # str, 1,115,394 chars
    lines = load_wikitext2("valid")           # list[str] lines ("train"|"valid"|"test")
    pairs = load_fra_eng()                    # list[(english, french)]
    pairs = load_multi30k("val", src="de", tgt="en")   # "train"|"val"|"test"

Where files come from (:func:`fetch`): ``$SEQ_DATA_DIR/<path>`` if that
folder is set and holds the file (CI and the Makefile use ``../shared/data``);
else the cache ``$SEQ_CACHE_DIR`` (default ``~/.cache/seqmodels``); else a
download from the canonical URL into the cache. The sha256 of the copy used
is checked against :data:`FILES` on every call, and a missing or corrupt file
raises :class:`MissingDataError` / :class:`ChecksumError` whose message names
the file, where it was looked for, and the fix. The local layout::

    tinyshakespeare/input.txt
    wikitext-2/{train,valid,test}.txt
    fra-eng/fra-eng.zip
    multi30k/{train,val,test_2016_flickr}.{en,de,fr}.gz

Text to ids::

    tokens = tokenize_lines(load_wikitext2("train"))    # words + "<eos>" per line
    vocab = Vocab(tokens, min_freq=1)                    # <pad>=0 <unk>=1 <bos>=2 <eos>=3
    ids = vocab.encode(tokens)
    chars = tokenize_chars(text); tokenize_words("A b", lowercase=True)

Batches (time-major)::

    data = batchify(ids, batch_size=20)                  # (T, B) contiguous streams
    for inputs, targets in bptt_batches(data, seq_len=35):   # targets = inputs shifted by one
        ...
    padded, lengths = pad_batch([[5, 6, 7], [8]], pad_id=vocab["<pad>"])  # (T, B), (B,)
"""

from .batching import batchify, bptt_batches, pad_batch
from .corpora import load_fra_eng, load_multi30k, load_tiny_shakespeare, load_wikitext2
from .files import (FILES, ChecksumError, DataError, MissingDataError, RemoteFile, cache_dir,
                    data_dir, fetch, sha256_of)
from .vocab import DEFAULT_SPECIALS, Vocab, tokenize_chars, tokenize_lines, tokenize_words

__all__ = [
    "DEFAULT_SPECIALS", "FILES", "ChecksumError", "DataError", "MissingDataError", "RemoteFile",
    "Vocab", "batchify", "bptt_batches", "cache_dir", "data_dir", "fetch", "load_fra_eng",
    "load_multi30k", "load_tiny_shakespeare", "load_wikitext2", "pad_batch", "sha256_of",
    "tokenize_chars", "tokenize_lines", "tokenize_words",
]
