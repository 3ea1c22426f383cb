"""Input validation shared by all chapters.

The reference functions are called by students from notebooks, so a wrong
argument must fail at the call with a message naming the argument, the
expected shape in the book's notation and what was received, instead of a
matmul error deep inside a loop.

Dimensions are named with single letters (T, B, D, H, K, ...). Callers pass
the same ``dims`` dict to every check of one call, so a name bound by one
argument must have the same size in all later ones::

    dims = {}
    check_tensor("X", X, ("T", "B", "D"), dims)
    check_tensor("W_xh", W_xh, ("H", "D"), dims, like=("X", X))
"""

from __future__ import annotations

from typing import Mapping, MutableMapping, Sequence, Union

import torch

Dim = Union[str, int, None]

#: Words used in messages for the dimension letters of the book.
DIM_WORDS: Mapping[str, str] = {
    "T": "sequence length",
    "B": "batch size",
    "D": "input size",
    "H": "hidden size",
    "K": "number of classes",
    "L": "number of layers times directions",
    "V": "vocabulary size",
}


def _fmt_shape(shape: Sequence) -> str:
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def check_tensor(
    name: str,
    x,
    shape: Sequence[Dim],
    dims: MutableMapping[str, tuple[int, str]] | None = None,
    *,
    floating: bool = True,
    like: tuple[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Check that ``x`` is a tensor of the given named shape; return it.

    Args:
        name: argument name used in messages, e.g. ``"W_hh"``.
        x: the value to check.
        shape: one entry per dimension: a letter (named size, bound on first
            use through ``dims``), an int (exact size) or ``None`` (any).
        dims: shared across the checks of one call; maps a letter to
            ``(size, name of the argument that fixed it)``. Updated in place.
        floating: require a floating-point dtype.
        like: ``(other_name, other_tensor)``; ``x`` must have its dtype and
            device (the tensors are combined in one computation).

    Raises:
        TypeError: not a tensor, or wrong dtype.
        ValueError: wrong rank, a size that disagrees with ``shape`` or with
            another argument, or a different device than ``like``.
    """
    if dims is None:
        dims = {}
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    names = _fmt_shape(shape)
    if x.dim() != len(shape):
        raise ValueError(
            f"{name}: expected {len(shape)}-D tensor of shape {names}, "
            f"got shape {_fmt_shape(tuple(x.shape))}"
        )

    # Resolve the expected sizes first so the message can show all of them.
    expected: list = []
    conflict = None
    local: dict[str, tuple[int, str]] = {}
    for dim, size in zip(shape, x.shape):
        if isinstance(dim, str):
            bound = dims.get(dim) or local.get(dim)
            if bound is None:
                local[dim] = (size, name)
                expected.append(size)
            else:
                expected.append(bound[0])
                if bound[0] != size and conflict is None:
                    conflict = (dim, bound, size)
        else:
            expected.append(dim if dim is None else int(dim))
    got = tuple(x.shape)
    if any(e is not None and e != g for e, g in zip(expected, got)):
        msg = f"{name}: expected shape {names} = {_fmt_shape(expected)}, got {_fmt_shape(got)}"
        if conflict is not None and conflict[1][1] != name:
            dim, (size, source), actual = conflict
            word = DIM_WORDS.get(dim, "size")
            msg += f" ({source} and {name} disagree on the {word} {dim}: {size} vs {actual})"
        raise ValueError(msg)
    dims.update(local)

    if floating and not x.is_floating_point():
        raise TypeError(
            f"{name}: expected a floating-point tensor (e.g. torch.float32), got {x.dtype}"
        )
    if like is not None:
        other_name, other = like
        if x.dtype != other.dtype:
            raise TypeError(
                f"{name} has dtype {x.dtype} but {other_name} has dtype {other.dtype}; "
                f"convert them to the same dtype"
            )
        if x.device != other.device:
            raise ValueError(
                f"{name} is on device {x.device} but {other_name} is on device {other.device}; "
                f"move them to the same device"
            )
    return x


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    """Check that ``value`` is one of the strings ``choices``; return it."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_positive_int(name: str, value, *, allow_none: bool = False):
    """Check that ``value`` is an int >= 1 (or ``None`` when allowed); return it."""
    if value is not None and not isinstance(value, bool) and isinstance(value, int) and value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return check_int(name, value, min=1, allow_none=allow_none)


def check_int(name: str, value, *, min: int = 0, allow_none: bool = False):
    """Check that ``value`` is an int >= ``min`` (bool is not an int here); return it."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < min:
        raise ValueError(f"{name}: expected an int >= {min}, got {value!r}")
    return value


def check_token_ids(
    name: str,
    ids,
    shape: Sequence[Dim] | None,
    dims: MutableMapping[str, tuple[int, str]] | None = None,
    *,
    vocab_size: int | None = None,
    what: str = "token ids",
    size_name: str = "V",
) -> torch.Tensor:
    """Check that ``ids`` is an integer tensor of the named ``shape`` with values in [0, vocab_size).

    Token ids, class indices and word ids index a table, so a float or bool tensor is a mistake
    (most often: the one-hot inputs passed instead of the ids). ``shape=None`` accepts any shape.
    Returns ``ids`` as torch.long.
    """
    if shape is None and isinstance(ids, torch.Tensor):
        shape = (None,) * ids.dim()
    check_tensor(name, ids, shape if shape is not None else (), dims, floating=False)
    if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
        raise TypeError(f"{name}: expected integer {what} (torch.long), got dtype {ids.dtype}")
    if vocab_size is not None and ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ValueError(f"{name}: {what} must lie in [0, {size_name}) = [0, {vocab_size}), "
                         f"got values in [{int(ids.min())}, {int(ids.max())}]")
    return ids.long()


def check_nonempty_time(name: str, X: torch.Tensor) -> torch.Tensor:
    """A time-major sequence (T, ...) needs at least one step: there is no last state otherwise."""
    if X.shape[0] == 0:
        raise ValueError(f"{name}: the sequence length T must be at least 1, got shape (0, ...)")
    return X
