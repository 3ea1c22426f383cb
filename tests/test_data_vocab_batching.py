"""Tokenizers, Vocab and batching of seqmodels.data, against brute force."""

from collections import Counter

import pytest
import torch

from seqmodels.data import (Vocab, batchify, bptt_batches, pad_batch, tokenize_chars,
                            tokenize_lines, tokenize_words)


def test_tokenizers():
    assert tokenize_chars("ab c\n") == ["a", "b", " ", "c", "\n"]
    assert tokenize_words("  The cat\tsat\n") == ["The", "cat", "sat"]
    assert tokenize_words("The Cat", lowercase=True) == ["the", "cat"]
    assert tokenize_lines([" a b ", " ", " c "]) == ["a", "b", "<eos>", "<eos>", "c", "<eos>"]
    assert tokenize_lines(["A b"], eos=None, lowercase=True) == ["a", "b"]
    with pytest.raises(TypeError, match="one str"):
        tokenize_lines("a b")


def test_vocab_numbering_specials_then_by_count_ties_by_first_occurrence():
    tokens = "b a c a b a d <unk>".split()
    v = Vocab(tokens)
    assert v.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c", "d"]
    assert all(v.stoi[t] == i for i, t in enumerate(v.itos)) and len(v) == 8
    assert v.unk_id == 1 and v["zebra"] == 1 and "zebra" not in v and "a" in v


def test_vocab_min_freq_and_max_size():
    tokens = "a a a b b c".split()
    assert Vocab(tokens, min_freq=2, specials=("<unk>",)).itos == ["<unk>", "a", "b"]
    assert Vocab(tokens, max_size=2, specials=("<unk>",)).itos == ["<unk>", "a"]
    assert Vocab(Counter(tokens), specials=("<unk>",)).itos == ["<unk>", "a", "b", "c"]
    with pytest.raises(ValueError, match="max_size"):
        Vocab(tokens, max_size=2)  # fewer than the 4 default specials
    with pytest.raises(ValueError, match="min_freq"):
        Vocab(tokens, min_freq=0)
    with pytest.raises(ValueError, match="unk"):
        Vocab(tokens, specials=("<pad>",))


def test_encode_decode_round_trip_and_unknowns():
    v = Vocab(tokenize_chars("hello world"))
    ids = v.encode(tokenize_chars("low hero!"))
    assert ids[-1] == v.unk_id
    assert "".join(v.decode(ids)) == "low hero<unk>"
    assert v.decode(torch.tensor(ids[:3])) == ["l", "o", "w"]
    with pytest.raises(ValueError, match="not in range"):
        v.decode([len(v)])
    with pytest.raises(TypeError, match="tokenize it first"):
        v.encode("hello")


def test_closed_vocab_and_from_itos():
    v = Vocab("a b".split(), specials=(), unk=None)
    assert v.encode(["b", "a"]) == [1, 0]
    with pytest.raises(KeyError, match="closed"):
        v.encode(["c"])
    w = Vocab.from_itos(["<unk>", "x", "y"])
    assert w.encode(["y", "z"]) == [2, 0]
    with pytest.raises(ValueError, match="twice"):
        Vocab.from_itos(["<unk>", "x", "x"])


@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (7, 1)])
def test_batchify_columns_are_contiguous_streams(n, batch_size):
    ids = list(range(100, 100 + n))
    data = batchify(ids, batch_size)
    T = n // batch_size
    assert data.shape == (T, batch_size) and data.dtype == torch.long
    for b in range(batch_size):
        assert data[:, b].tolist() == ids[b * T:(b + 1) * T]


def test_batchify_errors():
    with pytest.raises(ValueError, match="too few"):
        batchify([1, 2, 3], 2)
    with pytest.raises(TypeError, match="integer"):
        batchify(torch.ones(10), 2)
    with pytest.raises(ValueError, match="1-D"):
        batchify(torch.ones(4, 3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="batch_size"):
        batchify([1, 2, 3, 4], 0)


@pytest.mark.parametrize("T, seq_len", [(11, 3), (10, 3), (5, 10), (2, 1)])
def test_bptt_batches_shift_by_one_and_tile_the_stream(T, seq_len):
    gen = torch.Generator().manual_seed(0)
    data = torch.randint(0, 50, (T, 4), generator=gen)
    windows = list(bptt_batches(data, seq_len))
    for x, y in windows:
        assert x.shape == y.shape and 1 <= x.shape[0] <= seq_len
    inputs = torch.cat([x for x, _ in windows])
    targets = torch.cat([y for _, y in windows])
    assert torch.equal(inputs, data[:-1]) and torch.equal(targets, data[1:])
    assert [x.shape[0] for x, _ in windows[:-1]] == [seq_len] * (len(windows) - 1)


def test_bptt_batches_errors():
    with pytest.raises(ValueError, match=r"data: expected 2-D"):
        list(bptt_batches(torch.zeros(5, dtype=torch.long), 2))
    with pytest.raises(TypeError, match="integer"):
        list(bptt_batches(torch.zeros(5, 2), 2))
    with pytest.raises(ValueError, match="seq_len"):
        list(bptt_batches(torch.zeros(5, 2, dtype=torch.long), 0))


def test_pad_batch():
    padded, lengths = pad_batch([[5, 6, 7], torch.tensor([8]), []], pad_id=9)
    assert padded.tolist() == [[5, 8, 9], [6, 9, 9], [7, 9, 9]]
    assert lengths.tolist() == [3, 1, 0]
    with pytest.raises(ValueError, match="non-empty"):
        pad_batch([])
    with pytest.raises(TypeError, match=r"seqs\[1\]"):
        pad_batch([[1], [0.5]])
