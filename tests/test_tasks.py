"""The synthetic pattern-detection task of chapter 1, checked by brute force."""
import pytest
import torch

from seqmodels.tasks import pattern_detection_batch


def _contains(sequence: list[int], pattern: list[int]) -> bool:
    return any(sequence[i:i + len(pattern)] == pattern for i in range(len(sequence) - len(pattern) + 1))


@pytest.mark.parametrize("length,pattern,vocab", [(3, (0, 1, 2), 4), (20, (0, 1, 2), 4), (60, (1, 1), 3), (40, (0, 0, 0), 2)])
def test_labels_say_whether_the_pattern_occurs(length, pattern, vocab):
    tokens, labels = pattern_detection_batch(300, length, pattern, vocab, generator=torch.Generator().manual_seed(0))
    assert tokens.shape == (length, 300) and labels.shape == (300,)
    assert tokens.dtype == torch.long and int(tokens.min()) >= 0 and int(tokens.max()) < vocab
    for b in range(300):
        assert _contains(tokens[:, b].tolist(), list(pattern)) == bool(labels[b]), f"sequence {b}"


def test_classes_are_balanced_and_positions_uniform():
    tokens, labels = pattern_detection_batch(4000, 30, generator=torch.Generator().manual_seed(1))
    assert abs(labels.float().mean().item() - 0.5) < 0.03
    starts = [next(i for i in range(28) if tokens[i:i + 3, b].tolist() == [0, 1, 2])
              for b in labels.nonzero().flatten().tolist()]
    # The first occurrence should not cluster at either end of the string.
    assert 9 < sum(starts) / len(starts) < 18


def test_same_generator_seed_same_data_and_no_global_state():
    a = pattern_detection_batch(8, 10, generator=torch.Generator().manual_seed(5))
    torch.rand(3)  # disturbing the global generator must not matter
    b = pattern_detection_batch(8, 10, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize("kwargs,message", [
    (dict(length=2), "length must be at least"),
    (dict(length=10, pattern=(0, 5)), "pattern symbols must lie in"),
])
def test_bad_arguments_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pattern_detection_batch(4, **kwargs)
