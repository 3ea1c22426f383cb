"""seqmodels.lm.fit_lm: epochs, validation, learning-rate decay, checkpoints that resume exactly."""

import math

import pytest
import torch

from seqmodels.data import batchify
from seqmodels.lm import evaluate, fit_lm, plot_lm_history, RNNLM

V = 7


def _model(seed=0):
    return RNNLM(V, 6, 8, cell="lstm", generator=torch.Generator().manual_seed(seed))


def _stream(T=120, B=3, seed=1):
    return batchify(torch.randint(0, V, (T * B,), generator=torch.Generator().manual_seed(seed)), B)


def _run(model, **kw):
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    kw.setdefault("progress", False)
    return fit_lm(model, _stream(), opt, seq_len=10, valid=_stream(40, 2, seed=2), **kw), opt


def test_one_evaluation_per_epoch_and_the_best_weights_come_back():
    model = _model()
    hist, _ = _run(model, epochs=4, lr_decay=None)
    per_epoch = math.ceil((120 - 1) / 10)
    assert hist["windows_per_epoch"] == per_epoch
    assert hist["steps"] == 4 * per_epoch == len(hist["losses"])
    assert hist["tokens"] == 4 * (120 - 1) * 3
    assert [e["step"] for e in hist["evals"]] == [per_epoch * k for k in (1, 2, 3, 4)]
    assert [e["epoch"] for e in hist["evals"]] == [1.0, 2.0, 3.0, 4.0]
    assert hist["stopped"] == "epochs"
    best = min(hist["evals"], key=lambda e: e["valid_loss"])
    assert hist["best"] == best
    # restore_best: the returned model is the best-validating one, whichever epoch that was
    assert evaluate(model, _stream(40, 2, seed=2))[0] == pytest.approx(best["valid_loss"], rel=1e-6)


def test_learns_a_periodic_stream():
    model = _model()
    data = batchify(torch.arange(V).repeat(30), 3)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    hist = fit_lm(model, data, opt, seq_len=8, valid=data, epochs=8, max_norm=1.0, progress=False)
    assert hist["evals"][0]["valid_ppl"] > hist["best"]["valid_ppl"]
    assert hist["best"]["valid_ppl"] < 1.2, hist["best"]


def test_evaluations_within_an_epoch_and_none_just_before_its_end():
    hist, _ = _run(_model(), epochs=2, eval_every=4, lr_decay=None)   # 12 windows per epoch
    assert [e["step"] for e in hist["evals"]] == [4, 8, 12, 16, 20, 24]
    hist, _ = _run(_model(), epochs=2, eval_every=5, lr_decay=None)   # window 10 is 2 < 2.5 from the end
    assert [e["step"] for e in hist["evals"]] == [5, 12, 17, 24]
    hist, _ = _run(_model(), epochs=2, eval_every=7, lr_decay=None)   # window 7 is 5 >= 3.5 from the end
    assert [e["step"] for e in hist["evals"]] == [7, 12, 19, 24]
    hist, _ = _run(_model(), epochs=2, eval_every=10, lr_decay=None)  # window 10 is 2 < 5 from the end
    assert [e["step"] for e in hist["evals"]] == [12, 24]


def test_learning_rate_decays_when_validation_does_not_improve():
    # the optimizer owns one parameter outside the model, so the model (and its validation loss) never changes:
    # every evaluation after the first fails to improve, and each multiplies the learning rate by lr_decay
    model = _model()
    outside = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([outside], lr=1.0)
    hist = fit_lm(model, _stream(), opt, seq_len=10, valid=_stream(40, 2, seed=2), epochs=3, lr_decay=0.5,
                  progress=False)
    # each row records the rate its steps were trained with, before that evaluation's decay
    assert [e["lr"] for e in hist["evals"]] == [1.0, 1.0, 0.5]
    assert opt.param_groups[0]["lr"] == 0.25
    assert hist["best"]["step"] == hist["evals"][0]["step"]


def test_interrupted_run_resumes_exactly(tmp_path):
    whole, _ = _run(_model(), epochs=3, eval_every=5)
    reference = _model()
    _run(reference, epochs=3, eval_every=5)

    path = tmp_path / "run.pt"
    # 12 windows per epoch: evaluations after window 5 and at the end; stop at one, in epoch 2
    first, _ = _run(_model(), epochs=3, eval_every=5, max_steps=17, checkpoint=path)
    assert first["stopped"] == "max_steps" and first["steps"] == 17
    resumed_model = _model(seed=99)  # different start weights: all must come from the checkpoint
    second, _ = _run(resumed_model, epochs=3, eval_every=5, checkpoint=path)
    assert second["steps"] == whole["steps"]
    assert second["losses"] == pytest.approx(whole["losses"], rel=1e-6)
    assert [e["valid_loss"] for e in second["evals"]] == pytest.approx([e["valid_loss"] for e in whole["evals"]],
                                                                       rel=1e-6)
    for a, b in zip(resumed_model.state_dict().values(), reference.state_dict().values()):
        torch.testing.assert_close(a, b)
    # a finished run's checkpoint resumes to "nothing left to do"
    again, _ = _run(_model(), epochs=3, eval_every=5, checkpoint=path)
    assert again["steps"] == whole["steps"] and len(again["evals"]) == len(whole["evals"])


def test_budgets_stop_the_run():
    hist, _ = _run(_model(), epochs=5, max_steps=7)
    assert hist["steps"] == 7 and hist["stopped"] == "max_steps"
    assert hist["evals"][-1]["step"] == 7  # the run ends with an evaluation
    hist, _ = _run(_model(), epochs=5, max_seconds=0)
    assert hist["steps"] == 0 and hist["stopped"] == "max_seconds"


def test_progress_bar_goes_to_stdout(capsys):
    _run(_model(), epochs=1, progress=True, progress_interval=0)
    out, err = capsys.readouterr()
    assert "training" in out and "12/12" in out and "valid ppl" in out
    assert err == ""  # stderr would fail the book build
    _run(_model(), epochs=1, progress=False)
    assert capsys.readouterr().out == ""


def test_bad_inputs_give_clear_errors(tmp_path):
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"shape \(T, B\), got shape \(10,\)"):
        fit_lm(model, torch.zeros(10, dtype=torch.long), opt)
    with pytest.raises(TypeError, match="integer token ids"):
        fit_lm(model, torch.zeros(10, 2), opt)
    with pytest.raises(ValueError, match="T >= 2"):
        fit_lm(model, torch.zeros(1, 2, dtype=torch.long), opt)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fit_lm(model, _stream(), opt, checkpoint=tmp_path / "nowhere" / "run.pt", progress=False)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read.*delete it"):
        fit_lm(model, _stream(), opt, checkpoint=corrupt, progress=False)
    path = tmp_path / "small.pt"
    _run(_model(), epochs=1, checkpoint=path)
    bigger = RNNLM(V, 6, 16, cell="lstm")
    with pytest.raises(ValueError, match="different model"):
        fit_lm(bigger, _stream(), torch.optim.SGD(bigger.parameters(), lr=0.1), checkpoint=path,
               progress=False)
    with pytest.raises(ValueError, match="seq_len=10.*seq_len=7.*position in the stream"):
        fit_lm(model, _stream(), opt, seq_len=7, checkpoint=path, progress=False)


def test_kept_best_weights_are_copies_not_views_of_the_live_parameters():
    from seqmodels.lm.training import _copy_to

    model = _model()
    kept = _copy_to(model.state_dict(), "cpu")
    with torch.no_grad():
        model.E.weight.add_(1.0)
    assert not torch.equal(kept["E.weight"], model.E.weight)


def test_plot_shows_training_and_validation_curves():
    import matplotlib
    matplotlib.use("Agg")
    hist, _ = _run(_model(), epochs=3)
    ax = plot_lm_history(hist, uniform=math.log(V))
    labels = [line.get_label() for line in ax.get_lines()]
    assert "validation" in labels and any(label.startswith("training") for label in labels)
    val = ax.get_lines()[labels.index("validation")]
    assert list(val.get_xdata()) == [1.0, 2.0, 3.0]
    # a thinned history (means of `every` steps, as the benchmark stores it) lands on the same step axis
    thinned = {**hist, "every": 3, "losses": [sum(hist["losses"][i:i + 3]) / 3 for i in range(0, 36, 3)]}
    ax = plot_lm_history(thinned, x="step", smooth=1)
    assert list(ax.get_lines()[0].get_xdata()) == [3.0 * k for k in range(1, 13)]
    with pytest.raises(ValueError, match="'epoch' or 'step'"):
        plot_lm_history(hist, x="time")


@pytest.mark.gpu
def test_trains_on_cuda_and_its_checkpoint_resumes_on_the_cpu(tmp_path):
    path = tmp_path / "run.pt"
    cpu_whole, _ = _run(_model(), epochs=2)
    gpu_model = _model().cuda()
    first, _ = _run(gpu_model, epochs=1, checkpoint=path)
    assert first["steps"] > 0 and next(gpu_model.parameters()).is_cuda
    resumed, _ = _run(_model(seed=5), epochs=2, checkpoint=path)  # a CPU model continues the CUDA run
    assert resumed["steps"] == cpu_whole["steps"]
    # cuDNN and the CPU differ in the last bits, not in what is learnt
    assert resumed["losses"] == pytest.approx(cpu_whole["losses"], rel=1e-3)
