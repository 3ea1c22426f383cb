"""Language-model results table: n-gram vs RNN vs LSTM on WikiText-2, char LSTM on Tiny Shakespeare.

    SEQ_DATA_DIR=../shared/data .venv/bin/python benchmarks/language_models.py
    ... --word-steps 3000 --eval-tokens 0          # longer training, full valid/test splits
    ... --json benchmarks/language_models.json    # where the table is written (the chapter reads it)

Word level: WikiText-2 as published (each line's words + <eos>), with the
vocabulary cut to the ``--max-vocab`` most frequent training words (default
10,000; the other words become <unk>, which WikiText-2 already contains) so
that a CPU can train the recurrent models at all: the output softmax costs
about 6 |V| H flops per token, and with the full 33,278 types one step of
32 x 35 tokens took over 3 s on the 2-core machine used. Every model of the
comparison sees the same ids; one 3-gram row on the full vocabulary gives the
figure on the standard task. The n-grams
(interpolated Kneser-Ney, D = 0.75, and add-delta) are fitted on the whole
training split. The recurrent models (tied embeddings, one layer) are trained
with Adam and truncated BPTT for the same number of steps each (a fixed
number of tokens, so that the comparison does not depend on the load of the
machine), from a fixed seed; on a CPU this is a fraction of an epoch, and the
table states how many tokens each saw and how long it took. The softmax over 33,278 words dominates their cost,
so by default validation/test perplexities are measured on the first
``--eval-tokens`` tokens of each split for every model (n-grams also on the
full splits); ``--eval-tokens 0`` uses the full splits.

Character level: Tiny Shakespeare split 90 % / 5 % / 5 % (train/valid/test,
in order), vocabulary = the 65 characters.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch

from seqmodels.data import (Vocab, batchify, load_tiny_shakespeare, load_wikitext2, tokenize_chars,
                            tokenize_lines)
from seqmodels.lm import evaluate, fit_lm, NGramLM, RNNLM


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU {platform.machine()}, {torch.get_num_threads()} threads"


def word_data(eval_tokens: int, max_vocab: int):
    train_tokens = tokenize_lines(load_wikitext2("train"))
    vocab = Vocab(train_tokens, specials=("<unk>", "<eos>"), max_size=max_vocab or None)
    ids = {"train": torch.tensor(vocab.encode(train_tokens))}
    for split in ("valid", "test"):
        full = torch.tensor(vocab.encode(tokenize_lines(load_wikitext2(split))))
        ids[split + "_full"] = full
        ids[split] = full[:eval_tokens] if eval_tokens else full
    return vocab, ids


def ngram_rows(ids: dict, V: int, specs) -> list[dict]:
    rows = []
    for n, smoothing in specs:
        start = time.perf_counter()
        lm = NGramLM(ids["train"], n, V, smoothing)
        fit = time.perf_counter() - start
        rows.append({
            "model": f"{n}-gram, {smoothing.replace('_', '-')}", "data": "WikiText-2 (words)",
            "size": f"{sum(lm.num_ngrams.values()):,} n-grams", "train_tokens": lm.num_tokens,
            "steps": None, "train_seconds": fit,
            "valid_ppl": lm.perplexity(ids["valid"]), "test_ppl": lm.perplexity(ids["test"]),
            "valid_ppl_full": lm.perplexity(ids["valid_full"]),
            "test_ppl_full": lm.perplexity(ids["test_full"]),
        })
        print(_fmt(rows[-1]), flush=True)
    return rows


def rnn_row(name: str, data_name: str, cell: str, train, valid, test, V: int, *, emb: int,
            hidden: int, layers: int, dropout: float, batch: int, seq_len: int, lr: float, epochs: int,
            steps: int | None, eval_every: int | None, device, eval_batch: int = 8, tie: bool = True,
            progress: bool = True, checkpoint: Path | None = None, seconds: float | None = None) -> dict:
    gen = torch.Generator().manual_seed(0)
    model = RNNLM(V, emb, hidden, layers, cell=cell, dropout=dropout, tie_weights=tie, generator=gen).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = batchify(train, batch)
    valid_stream = batchify(valid, eval_batch)
    hist = fit_lm(model, data, opt, seq_len=seq_len, valid=valid_stream, epochs=epochs, max_steps=steps,
                  max_seconds=seconds, max_norm=0.5, eval_every=eval_every, lr_decay=0.25, checkpoint=checkpoint,
                  progress=progress, progress_interval=30.0)
    start = time.perf_counter()
    # fit_lm restored the weights of the best validation; the test split is scored once, with those
    valid_ppl = hist["best"]["valid_ppl"]
    test_ppl = evaluate(model, batchify(test, eval_batch).to(device), seq_len=64)[1]
    params = sum(p.numel() for p in model.parameters())
    losses = hist["losses"]
    every = max(1, len(losses) // 200)  # keep the JSON small: plot_lm_history reads means of `every` steps
    row = {"model": name, "data": data_name,
           "size": f"{params:,} params ({layers} x H={hidden}, D={emb}{', tied' if tie else ''}"
                   f"{f', dropout {dropout}' if dropout else ''})",
           "train_tokens": hist["tokens"], "steps": hist["steps"], "train_seconds": hist["seconds"],
           "epochs": hist["tokens"] / (train.numel() - batch), "best_epoch": hist["best"]["epoch"],
           "stopped": hist["stopped"],
           "eval_seconds": time.perf_counter() - start, "valid_ppl": valid_ppl, "test_ppl": test_ppl,
           "first_loss": losses[0], "last_loss": sum(losses[-20:]) / len(losses[-20:]),
           "curve": {"every": every, "windows_per_epoch": hist["windows_per_epoch"],
                     "losses": [sum(losses[i:i + every]) / len(losses[i:i + every])
                                for i in range(0, len(losses), every)],
                     "evals": [{k: e[k] for k in ("step", "epoch", "valid_loss", "lr", "seconds")}
                               for e in hist["evals"]]}}
    print(_fmt(row), flush=True)
    return row


def _fmt(row: dict) -> str:
    steps = "" if row.get("steps") is None else f", {row['steps']} steps"
    return (f"  {row['model']:<28} valid {row['valid_ppl']:9.2f}  test {row['test_ppl']:9.2f}  "
            f"train {row['train_seconds']:6.1f} s on {row['train_tokens']:,} tokens{steps}  [{row['size']}]")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--word-epochs", type=int, default=1, help="passes over WikiText-2 train (word RNN/LSTM)")
    p.add_argument("--word-steps", type=int, default=200,
                   help="stop each word model after this many steps (windows of 32 x 35 tokens); 0 = no cap")
    p.add_argument("--rnn-epochs", type=int, default=None,
                   help="epochs of the tanh RNN (default: --word-epochs; 0 = leave the RNN out)")
    p.add_argument("--word-minutes", type=float, default=None,
                   help="wall-clock budget of the word LSTM's training (with its validations), in minutes")
    p.add_argument("--word-batch", type=int, default=32, help="streams per batch of the word models")
    p.add_argument("--word-lr", type=float, default=3e-3, help="Adam learning rate of the word LSTM")
    p.add_argument("--char-epochs", type=int, default=1, help="passes over the Tiny Shakespeare training part")
    p.add_argument("--char-steps", type=int, default=300,
                   help="stop the char LSTM after this many steps (windows of 32 x 100 characters); 0 = no cap")
    p.add_argument("--eval-every", type=int, default=0,
                   help="validate every this many steps (and at every epoch end); 0 = at epoch ends only")
    p.add_argument("--eval-tokens", type=int, default=50_000,
                   help="word-level valid/test prefix to score (0 = the full splits)")
    p.add_argument("--max-vocab", type=int, default=10_000,
                   help="keep the most frequent words of WikiText-2 (others -> <unk>); 0 = all 33,278")
    p.add_argument("--hidden", type=int, default=128, help="D = H of the word models")
    p.add_argument("--layers", type=int, default=1, help="stacked layers of the word LSTM (the RNN has 1)")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout of the word models")
    p.add_argument("--char-hidden", type=int, default=256)
    p.add_argument("--char-layers", type=int, default=1)
    p.add_argument("--char-dropout", type=float, default=0.0)
    p.add_argument("--checkpoints", type=Path, default=None,
                   help="folder for one fit_lm checkpoint per model: a killed run resumes from them")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--skip-words", action="store_true")
    p.add_argument("--skip-chars", action="store_true")
    p.add_argument("--cpu", action="store_true", help="stay on the CPU even with CUDA present")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (on a shared, loaded machine 1 was 4x faster than 2)")
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    args = p.parse_args(argv)

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    meta = {"device": device_name(device), "torch": torch.__version__, "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "argv": sys.argv[1:] if argv is None else list(argv)}
    print(f"device: {meta['device']}; torch {meta['torch']}; python {meta['python']}", flush=True)
    progress = not args.no_progress
    if args.checkpoints is not None:
        args.checkpoints.mkdir(parents=True, exist_ok=True)

    def ckpt(tag: str) -> Path | None:
        return None if args.checkpoints is None else args.checkpoints / f"{tag}.pt"

    rows = []
    t0 = time.perf_counter()
    if not args.skip_words:
        vocab, ids = word_data(args.eval_tokens, args.max_vocab)
        V = len(vocab)
        meta.update(word_vocab=V, word_train_tokens=ids["train"].numel(),
                    word_eval_tokens={s: ids[s].numel() for s in ("valid", "test")},
                    word_full_tokens={s: ids[s + "_full"].numel() for s in ("valid", "test")})
        print(f"WikiText-2: |V| = {V:,}, train {ids['train'].numel():,} tokens; scoring "
              f"{ids['valid'].numel():,} valid and {ids['test'].numel():,} test tokens", flush=True)
        rows += ngram_rows(ids, V, [(1, "kneser_ney"), (2, "add"), (2, "kneser_ney"), (3, "kneser_ney"),
                                    (4, "kneser_ney")])
        if args.max_vocab and args.max_vocab < 33_278:
            # the reference point on the standard task (full vocabulary)
            full_vocab, full_ids = word_data(args.eval_tokens, 0)
            row = ngram_rows(full_ids, len(full_vocab), [(3, "kneser_ney")])[0]
            row["model"] += f", full |V| = {len(full_vocab):,}"
            rows.append(row)
        rnn_epochs = args.word_epochs if args.rnn_epochs is None else args.rnn_epochs
        for name, cell, lr, layers, epochs, minutes in [
                ("RNN (tanh)", "rnn", 2e-3, 1, rnn_epochs, None),
                ("LSTM", "lstm", args.word_lr, args.layers, args.word_epochs, args.word_minutes)]:
            if epochs == 0:
                continue
            rows.append(rnn_row(name, "WikiText-2 (words)", cell, ids["train"], ids["valid"], ids["test"], V,
                                emb=args.hidden, hidden=args.hidden, layers=layers, dropout=args.dropout,
                                batch=args.word_batch, seq_len=35, lr=lr, epochs=epochs,
                                steps=args.word_steps or None, eval_every=args.eval_every or None, device=device,
                                progress=progress, checkpoint=ckpt(cell),
                                seconds=None if minutes is None else 60 * minutes))
    if not args.skip_chars:
        text = load_tiny_shakespeare()
        cv = Vocab(tokenize_chars(text), specials=(), unk=None)
        ids = torch.tensor(cv.encode(tokenize_chars(text)))
        a, b = int(0.9 * len(ids)), int(0.95 * len(ids))
        meta.update(char_vocab=len(cv), char_split=[a, b - a, len(ids) - b])
        print(f"Tiny Shakespeare: |V| = {len(cv)}, train/valid/test {a:,}/{b - a:,}/{len(ids) - b:,} chars",
              flush=True)
        rows.append(rnn_row("char LSTM", "Tiny Shakespeare (chars)", "lstm", ids[:a], ids[a:b], ids[b:],
                            len(cv), emb=64, hidden=args.char_hidden, layers=args.char_layers,
                            dropout=args.char_dropout, batch=32, seq_len=100, lr=3e-3, epochs=args.char_epochs,
                            steps=args.char_steps or None, eval_every=args.eval_every or None, device=device,
                            tie=False, progress=progress, checkpoint=ckpt("char")))
    meta["total_seconds"] = time.perf_counter() - t0
    print(f"total {meta['total_seconds']:.0f} s", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
