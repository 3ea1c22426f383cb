"""Suite-wide markers: `gpu` needs CUDA, `slow` runs only on request.

Markers are declared in pyproject.toml. Fixtures for one topic belong in
that topic's test files; fixtures that several topics use live here.
"""

import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run tests marked slow (same as SEQ_RUN_SLOW=1)")


def pytest_collection_modifyitems(config, items):
    run_slow = config.getoption("--run-slow") or os.environ.get("SEQ_RUN_SLOW") == "1"
    has_cuda = None  # torch is imported only when a gpu test was collected
    skip_gpu = pytest.mark.skip(reason="no CUDA device")
    skip_slow = pytest.mark.skip(reason="slow; run with --run-slow or SEQ_RUN_SLOW=1")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            if has_cuda is None:
                import torch

                has_cuda = torch.cuda.is_available()
            if not has_cuda:
                item.add_marker(skip_gpu)
        if item.get_closest_marker("slow") is not None and not run_slow:
            item.add_marker(skip_slow)


@pytest.fixture
def one_thread():
    """One torch thread for the test: for tiny training loops on a loaded machine, thread hand-offs
    cost far more than the arithmetic."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _default_dtype_restored():
    """`seqcourse check` runs a notebook's setup cells in this process, and those set torch's default
    dtype to float64 (exact comparisons); no later test may inherit that."""
    import sys

    torch = sys.modules.get("torch")
    before = torch.get_default_dtype() if torch is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_default_dtype(before if before is not None else torch.float32)
