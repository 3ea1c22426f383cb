r"""Training a recurrent language model for many epochs (chapter 4).

One step is one truncated-BPTT window of the (T, B) training stream
(:func:`seqmodels.data.bptt_batches`): forward from the carried, detached
state, mean cross-entropy over the B * t targets, backward, gradient-norm
clipping, optimizer step. An epoch is one pass over the stream; the state is
reset to zeros at the start of each epoch.

At the end of each epoch, and every ``eval_every`` steps within an epoch,
the model is scored on the validation stream. If the validation loss did not improve on
the best so far, every learning rate is multiplied by ``lr_decay`` (the
schedule of the PyTorch word-language-model example); the best weights are
kept and loaded back at the end. A checkpoint file, written at every
evaluation, lets an interrupted run continue exactly where it stopped.

    history = fit_lm(model, train, optimizer, seq_len=35, valid=valid, epochs=6,
                     checkpoint="runs/lstm.pt")
    plot_lm_history(history)
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from .._checks import check_positive_int, check_token_ids
from ..recurrent.clipping import clip_grad_norm
from ..data import bptt_batches
from .rnn_lm import detach_state, evaluate, lm_loss

__all__ = ["fit_lm", "plot_lm_history"]

CHECKPOINT_FORMAT = "seqmodels.lm.fit_lm/1"


def _check_stream(name: str, data: torch.Tensor) -> None:
    check_token_ids(name, data, ("T", "B"))
    if data.shape[0] < 2:
        raise ValueError(f"{name}: a stream needs T >= 2 rows (an input and its target), got T = {data.shape[0]}")


def _windows_per_epoch(T: int, seq_len: int) -> int:
    return math.ceil((T - 1) / seq_len)


def _copy_to(obj: Any, device) -> Any:
    """A detached copy (never a view of live parameters) of nested tensors on ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to(device, copy=True)
    if isinstance(obj, dict):
        return {k: _copy_to(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_copy_to(v, device) for v in obj)
    return obj


def _save(path: Path, payload: dict) -> None:
    # write-then-rename: a run killed while saving leaves the previous checkpoint intact
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _load(path: Path, model: torch.nn.Module) -> dict:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which, and what to do
        first = (str(err).strip().splitlines() or [""])[0][:160]
        raise ValueError(f"checkpoint {path}: cannot be read ({type(err).__name__}: {first}); "
                         f"delete it to start afresh") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint {path}: not a fit_lm checkpoint; delete it or pass another path")
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in payload["model"].items()}
    if ours != theirs:
        diff = sorted(set(ours.items()) ^ set(theirs.items()))[:3]
        raise ValueError(f"checkpoint {path}: was saved for a different model (parameters differ, e.g. {diff}); "
                         f"delete it or pass another path")
    return payload


def fit_lm(model: torch.nn.Module, train: torch.Tensor, optimizer: torch.optim.Optimizer, *,
           seq_len: int = 35, valid: torch.Tensor | None = None, epochs: int = 1,
           max_steps: int | None = None, max_seconds: float | None = None, max_norm: float | None = 0.25,
           eval_every: int | None = None, eval_seq_len: int = 64, lr_decay: float | None = 0.25,
           restore_best: bool = True, checkpoint: str | os.PathLike | None = None,
           progress: bool = True, progress_interval: float = 1.0) -> dict:
    """Train a language model on a (T, B) stream with truncated BPTT.

    Args:
        model: maps ``(X (t, B) long, state) -> (logits (t, B, V), state)``,
            e.g. :class:`seqmodels.lm.RNNLM`.
        train: (T, B) long training stream (:func:`seqmodels.data.batchify`).
        optimizer: over the model's parameters.
        seq_len: BPTT truncation length (targets per stream per step).
        valid: (T', B') long validation stream; ``None`` skips evaluation,
            learning-rate decay and best-model selection.
        epochs: passes over ``train``.
        max_steps, max_seconds: stop earlier, after this many steps in all
            (counting those of a resumed checkpoint) or this much wall time
            of this call.
        max_norm: gradient-norm clipping threshold (``None``: no clipping).
        eval_every: also validate after every ``eval_every`` windows of an
            epoch, except within ``eval_every / 2`` windows of its end (the
            epoch's own evaluation is close enough); default: at epoch ends
            and at the end of the run only.
        eval_seq_len: window length for scoring ``valid``.
        lr_decay: multiply every learning rate by this when the validation
            loss does not improve on the best so far (``None``: constant).
        restore_best: load the best-validating weights at the end.
        checkpoint: file written at every evaluation (model, optimizer,
            position in the stream, carried state, history, best weights).
            If it exists, training resumes from it.
        progress: show a tqdm bar (on stdout) with the running loss.
        progress_interval: least seconds between two updates of the bar.

    Returns:
        a history dict: ``losses`` (training loss of every step), ``evals``
        (one dict per evaluation: ``step``, ``epoch`` (fractional),
        ``tokens``, ``seconds``, ``train_loss`` (mean since the previous
        evaluation), ``valid_loss``, ``valid_ppl``, ``lr`` (the rate those
        steps used, before this evaluation's decay)), ``steps``,
        ``tokens`` (targets trained on), ``seconds`` (wall time, training
        plus evaluation, over all resumed calls), ``best`` (the evaluation
        with the lowest validation loss, or ``None``), ``stopped``
        (``"epochs"``, ``"max_steps"`` or ``"max_seconds"``).
    """
    _check_stream("train", train)
    if valid is not None:
        _check_stream("valid", valid)
    for name, value in (("seq_len", seq_len), ("epochs", epochs), ("eval_seq_len", eval_seq_len)):
        check_positive_int(name, value)
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 0):
        raise ValueError(f"max_steps: expected a non-negative int or None, got {max_steps!r}")
    if eval_every is not None:
        check_positive_int("eval_every", eval_every)
    if lr_decay is not None and not 0 < lr_decay <= 1:
        raise ValueError(f"lr_decay: expected a factor in (0, 1] or None, got {lr_decay!r}")
    device = next(model.parameters()).device
    run = _Run(model, optimizer, valid.to(device) if valid is not None else None, eval_seq_len, lr_decay,
               _windows_per_epoch(train.shape[0], seq_len), seq_len,
               Path(checkpoint) if checkpoint is not None else None)
    run.resume(device)
    train = train.to(device)
    total = epochs * run.per_epoch if max_steps is None else min(max_steps, epochs * run.per_epoch)
    # `disable` is passed only to switch the bar off: an explicit disable=False would override
    # TQDM_DISABLE=1, which the website build sets so that no bar lands on a page.
    off = {} if progress else {"disable": True}
    run.bar = tqdm(total=total, initial=min(run.hist["steps"], total), desc="training", unit="step",
                   file=sys.stdout, mininterval=progress_interval, ncols=100, leave=True, **off)
    run.start = time.perf_counter()
    model.train()
    try:
        while run.epoch < epochs:
            stop = None
            for inputs, targets in islice(bptt_batches(train, seq_len), run.window, None):  # resume mid-epoch
                if max_steps is not None and run.hist["steps"] >= max_steps:
                    stop = "max_steps"
                elif max_seconds is not None and time.perf_counter() - run.start >= max_seconds:
                    stop = "max_seconds"
                if stop:
                    break
                run.step(inputs, targets, max_norm)
                # counted within the epoch, so that no evaluation falls a few steps before the epoch's
                # own: two nearly equal scores would count as "no improvement" and decay the rate
                if (eval_every is not None and run.window % eval_every == 0
                        and run.per_epoch - run.window >= eval_every / 2):
                    run.validate()
                    run.save()
            if stop:
                run.hist["stopped"] = stop
                break
            run.epoch, run.window, run.state = run.epoch + 1, 0, None
            run.validate()
            run.save()
        if not run.hist["evals"] or run.hist["evals"][-1]["step"] != run.hist["steps"]:
            run.validate()
        run.hist["seconds"] = run.elapsed()
        run.save()
    finally:
        run.bar.close()
        model.train()
    if restore_best and run.best_weights is not None:
        model.load_state_dict(run.best_weights)
    return run.hist


@dataclass
class _Run:
    """Everything a training run carries between steps, evaluations and checkpoints."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    valid: torch.Tensor | None
    eval_seq_len: int
    lr_decay: float | None
    per_epoch: int
    seq_len: int
    path: Path | None
    epoch: int = 0
    window: int = 0                      # windows of the current epoch already trained on
    state: Any = None                    # the recurrent state carried from window to window
    best_weights: dict | None = None
    hist: dict = field(default_factory=dict)
    base_seconds: float = 0.0            # wall time of earlier (resumed) calls
    start: float = 0.0
    bar: Any = None

    def __post_init__(self) -> None:
        self.hist = {"losses": [], "evals": [], "steps": 0, "tokens": 0, "seconds": 0.0, "best": None,
                     "stopped": "epochs", "seq_len": self.seq_len, "windows_per_epoch": self.per_epoch}

    def resume(self, device) -> None:
        """Continue from the checkpoint file if there is one."""
        path = self.path
        if path is None:
            return
        if not path.parent.is_dir():
            raise FileNotFoundError(f"checkpoint {path}: folder {path.parent} does not exist; create it first")
        if not path.exists():
            return
        ck = _load(path, self.model)
        saved = ck["history"]
        if (saved["seq_len"], saved["windows_per_epoch"]) != (self.seq_len, self.per_epoch):
            raise ValueError(f"checkpoint {path}: saved for seq_len={saved['seq_len']} and "
                             f"{saved['windows_per_epoch']} windows per epoch, resumed with seq_len={self.seq_len} "
                             f"and {self.per_epoch}: its position in the stream would be wrong")
        self.model.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(ck["optimizer"])
        self.hist, self.epoch, self.window = ck["history"], ck["epoch"], ck["window"]
        self.state, self.best_weights = _copy_to(ck["state"], device), ck["best_model"]
        self.base_seconds = self.hist["seconds"]

    def elapsed(self) -> float:
        return self.base_seconds + time.perf_counter() - self.start

    def step(self, inputs: torch.Tensor, targets: torch.Tensor, max_norm: float | None) -> None:
        """One update on one window; the state goes on to the next window, detached."""
        logits, state = self.model(inputs, self.state)
        loss = lm_loss(logits, targets)
        self.optimizer.zero_grad()
        loss.backward()
        if max_norm is not None:
            clip_grad_norm(self.model.parameters(), max_norm)
        self.optimizer.step()
        self.state = detach_state(state)  # truncation: the next window does not backpropagate into this one
        hist = self.hist
        hist["losses"].append(loss.item())
        hist["steps"] += 1
        hist["tokens"] += targets.numel()
        self.window += 1
        self.bar.update(1)
        if len(hist["losses"]) % 20 == 0:
            self.bar.set_postfix_str(_postfix(hist), refresh=False)

    def validate(self) -> None:
        """Score ``valid``, keep the best weights, decay the rate when it did not improve."""
        hist = self.hist
        since = hist["evals"][-1]["step"] if hist["evals"] else 0
        recent = hist["losses"][since:]
        hist["seconds"] = self.elapsed()
        row = {"step": hist["steps"], "epoch": hist["steps"] / self.per_epoch, "tokens": hist["tokens"],
               "seconds": hist["seconds"],
               "train_loss": sum(recent) / len(recent) if recent else float("nan"),
               "lr": self.optimizer.param_groups[0]["lr"], "valid_loss": None, "valid_ppl": None}
        if self.valid is not None:
            row["valid_loss"], row["valid_ppl"] = evaluate(self.model, self.valid, self.eval_seq_len)
            best = hist["best"]
            if best is None or row["valid_loss"] < best["valid_loss"]:
                hist["best"] = row
                self.best_weights = _copy_to(self.model.state_dict(), "cpu")
            elif self.lr_decay is not None:
                for group in self.optimizer.param_groups:
                    group["lr"] *= self.lr_decay
        hist["evals"].append(row)
        self.bar.set_postfix_str(_postfix(hist), refresh=False)

    def save(self) -> None:
        if self.path is not None:
            _save(self.path, {"format": CHECKPOINT_FORMAT, "model": _copy_to(self.model.state_dict(), "cpu"),
                              "optimizer": _copy_to(self.optimizer.state_dict(), "cpu"), "history": self.hist,
                              "epoch": self.epoch, "window": self.window, "state": _copy_to(self.state, "cpu"),
                              "best_model": self.best_weights})


def _postfix(hist: dict) -> str:
    recent = hist["losses"][-50:]
    text = f"loss {sum(recent) / len(recent):.3f}" if recent else ""
    if hist["evals"] and hist["evals"][-1]["valid_ppl"] is not None:
        text += f", valid ppl {hist['evals'][-1]['valid_ppl']:.1f}"
    return text


def plot_lm_history(history: dict, ax=None, *, x: str = "epoch", smooth: int = 20, uniform: float | None = None,
                    unit: str = "token"):
    """Training loss (moving average over ``smooth`` points) and validation loss against epochs or steps.

    ``history``: what :func:`fit_lm` returns, or a thinned copy whose
    ``losses`` are means over ``history["every"]`` consecutive steps (as the
    language-model benchmark stores it). ``uniform``: draw the loss of the
    uniform model, log |V|, for scale. Returns the matplotlib axes.
    """
    import matplotlib.pyplot as plt

    if x not in ("epoch", "step"):
        raise ValueError(f"x: expected 'epoch' or 'step', got {x!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.2))
    scale = 1.0 / history["windows_per_epoch"] if x == "epoch" else 1.0
    every = history.get("every", 1)
    losses = torch.tensor(history["losses"], dtype=torch.float64)
    if len(losses):
        k = max(1, min(smooth, len(losses)))
        avg = torch.nn.functional.avg_pool1d(losses[None, None], k, stride=1)[0, 0]
        ends = every * torch.arange(1, len(losses) + 1, dtype=torch.float64)  # last step of each point
        ax.plot(ends * scale, losses, alpha=0.25, color="C0")
        ax.plot(ends[k - 1:] * scale, avg, color="C0", label=f"training (mean of {k * every} steps)")
    evals = [e for e in history["evals"] if e["valid_loss"] is not None]
    if evals:
        ax.plot([e["step"] * scale for e in evals], [e["valid_loss"] for e in evals], "o-", color="C3",
                label="validation")
    if uniform is not None:
        ax.axhline(uniform, color="k", ls=":", label="uniform: log |V|")
    ax.set_xlabel("epoch" if x == "epoch" else "step")
    ax.set_ylabel(f"cross-entropy (nats/{unit})")
    ax.legend()
    return ax
