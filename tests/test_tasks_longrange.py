"""seqmodels.tasks: the long-range tasks of chapter 2 (delayed recall, adding problem)."""
import re

import pytest
import torch

from seqmodels.tasks import adding_problem_batch, delayed_recall_batch


def test_delayed_recall_marker_first_then_distractors():
    tokens, labels = delayed_recall_batch(500, 12, num_classes=3, num_distractors=5,
                                          generator=torch.Generator().manual_seed(0))
    assert tokens.shape == (12, 500) and labels.shape == (500,)
    assert tokens.dtype == labels.dtype == torch.long
    assert torch.equal(tokens[0], labels)
    assert tokens[1:].min() >= 3 and tokens[1:].max() <= 7     # only distractors after the marker
    assert set(labels.tolist()) == {0, 1, 2}
    assert set(tokens[1:].flatten().tolist()) == set(range(3, 8))


def test_delayed_recall_labels_are_balanced():
    _, labels = delayed_recall_batch(4000, 3, generator=torch.Generator().manual_seed(1))
    assert abs(labels.float().mean().item() - 0.5) < 0.03


def test_delayed_recall_is_reproducible():
    a = delayed_recall_batch(8, 6, generator=torch.Generator().manual_seed(2))
    b = delayed_recall_batch(8, 6, generator=torch.Generator().manual_seed(2))
    c = delayed_recall_batch(8, 6, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_adding_problem_targets_are_the_sum_of_the_two_marked_values():
    X, y = adding_problem_batch(300, 10, generator=torch.Generator().manual_seed(4))
    assert X.shape == (10, 300, 2) and y.shape == (300,)
    values, markers = X[..., 0], X[..., 1]
    assert torch.equal(markers.sum(0), torch.full((300,), 2.0))
    assert torch.equal(markers[:5].sum(0), torch.ones(300))    # one mark in each half
    for b in range(300):
        marked = markers[:, b].nonzero().flatten()
        assert y[b].item() == pytest.approx(values[marked, b].sum().item())
    assert values.min() >= 0 and values.max() < 1


def test_adding_problem_baseline_mse_is_one_sixth():
    _, y = adding_problem_batch(20000, 7, generator=torch.Generator().manual_seed(5))
    assert ((y - 1) ** 2).mean().item() == pytest.approx(1 / 6, abs=0.01)


def test_adding_problem_is_reproducible():
    a = adding_problem_batch(4, 9, generator=torch.Generator().manual_seed(6))
    b = adding_problem_batch(4, 9, generator=torch.Generator().manual_seed(6))
    assert all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("call, message", [
    (lambda: delayed_recall_batch(0, 5), "batch_size: expected a positive int, got 0"),
    (lambda: delayed_recall_batch(4, 0), "length: expected an int >= 1, got 0"),
    (lambda: delayed_recall_batch(4, 5, num_classes=1), "num_classes: expected an int >= 2, got 1"),
    (lambda: delayed_recall_batch(4, 5, num_distractors=0), "num_distractors: expected a positive int, got 0"),
    (lambda: adding_problem_batch(4, 1), "length: expected an int >= 2, got 1"),
])
def test_bad_sizes_are_rejected(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
