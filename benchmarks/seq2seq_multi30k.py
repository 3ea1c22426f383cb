"""Multi30k German->English with the course's GRU/LSTM encoder-decoder with attention.

Goal (issue 9): >= 28 sacreBLEU on test 2016 (Flickr) within 10 minutes on one H100.

    .venv/bin/python benchmarks/seq2seq_multi30k.py                  # GPU if present, full size
    .venv/bin/python benchmarks/seq2seq_multi30k.py --small --minutes 3   # a short CPU run

Training is teacher-forced cross-entropy with Adam for a wall-clock budget
(``--minutes``, data preparation excluded, evaluation included), keeping the
parameters of the epoch with the best validation loss. The test set is then
decoded with greedy search and with beam search (the ratio in the same run),
and scored with sacrebleu (13a tokenization, cased, on detokenized text; a
lowercased score is printed too). Prints device, sizes and torch version.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time

import torch

from seqmodels.data import load_multi30k, Vocab
from seqmodels.seq2seq import (Seq2Seq, batch_pairs, detokenize, sacre_bleu, sequence_nll, split_punctuation,
                               train_step, translate)
from seqmodels.specials import BOS, EOS, PAD


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu or cuda")
    p.add_argument("--minutes", type=float, default=None,
                   help="training+validation budget (default 9 on a GPU, 3 on the CPU)")
    p.add_argument("--small", action="store_true",
                   help="CPU-sized run: a training subset, a small model, a test subset")
    p.add_argument("--cell", choices=["gru", "lstm"], default="gru")
    p.add_argument("--attention", default="additive",
                   choices=["lecture", "multiplicative", "dot", "scaled_dot", "additive", "none"])
    p.add_argument("--emb", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--layers", type=int, default=1, help="encoder layers")
    p.add_argument("--dropout", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--train-pairs", type=int, default=None, help="use only the first N training pairs")
    p.add_argument("--val-pairs", type=int, default=None, help="validate on the first N validation pairs")
    p.add_argument("--test-pairs", type=int, default=None, help="score only the first N test pairs")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default 1 on the CPU: the small per-step operations of a "
                        "recurrent decoder lose more to thread synchronization than they gain)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="write the results to this file")
    return p.parse_args(argv)


def prepare(args):
    def tok(pairs):
        return [(split_punctuation(x), split_punctuation(y)) for x, y in pairs]
    train = tok(load_multi30k("train", "de", "en"))
    val = tok(load_multi30k("val", "de", "en"))
    test_raw = load_multi30k("test", "de", "en")
    if args.train_pairs:
        train = train[: args.train_pairs]
    if args.val_pairs:
        val = val[: args.val_pairs]
    if args.test_pairs:
        test_raw = test_raw[: args.test_pairs]
    src_vocab = Vocab((w for x, _ in train for w in x), min_freq=2)
    tgt_vocab = Vocab((w for _, y in train for w in y), min_freq=2)
    enc = lambda data: [(src_vocab.encode(x), tgt_vocab.encode(y)) for x, y in data]  # noqa: E731
    test = [(src_vocab.encode(split_punctuation(x)), y) for x, y in test_raw]
    return enc(train), enc(val), test, src_vocab, tgt_vocab


def batches(pairs, batch_size, generator, device, shuffle=True):
    """Length-bucketed batches (sorted within pools of 20 batches) in random order."""
    order = torch.randperm(len(pairs), generator=generator).tolist() if shuffle else list(range(len(pairs)))
    pool, out = 20 * batch_size, []
    for p in range(0, len(order), pool):
        chunk = sorted(order[p:p + pool], key=lambda i: len(pairs[i][0]))
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    if shuffle:
        out = [out[k] for k in torch.randperm(len(out), generator=generator).tolist()]
    for idx in out:
        yield batch_pairs([pairs[i] for i in idx], pad=PAD, bos=BOS, eos=EOS, device=device)


@torch.no_grad()
def evaluate_nll(model, pairs, device):
    model.eval()
    total, count = 0.0, 0
    for src, lengths, tgt in batches(pairs, 256, None, device, shuffle=False):
        nll, n = sequence_nll(model(src, lengths, tgt[:-1])[0].float(), tgt[1:], PAD)
        total, count = total + float(nll), count + n
    return total / count


def decode(model, test, tgt_vocab, beam, device, batch_size=100):
    hyps = []
    for i in range(0, len(test), batch_size):
        src, lengths, _ = batch_pairs([(x, []) for x, _ in test[i:i + batch_size]], pad=PAD, bos=BOS,
                                      eos=EOS, device=device)
        for out in translate(model, src, lengths, beam_size=beam, max_len=int(src.shape[0] * 1.5) + 10,
                             length_penalty=None if beam == 1 else 1.0):
            # sacrebleu would split "<unk>" into "<", "unk", ">": score it as one wrong word
            hyps.append(detokenize(["UNK" if w == "<unk>" else w for w in tgt_vocab.decode(out)]))
    return hyps


def main(argv=None) -> dict:
    args = parse_args(argv)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    gpu = device.type == "cuda"
    small = args.small or not gpu
    emb = args.emb or (64 if small else 256)
    hidden = args.hidden or (128 if small else 512)
    dropout = args.dropout if args.dropout is not None else (0.1 if small else 0.3)
    lr = args.lr or (3e-3 if small else 1e-3)
    minutes = args.minutes or (3.0 if small else 9.0)
    if small and args.train_pairs is None and not gpu:
        args.train_pairs = 10000
    if small and args.test_pairs is None and not gpu:
        args.test_pairs = 300
    old_threads = torch.get_num_threads()
    old_tf32 = torch.backends.cuda.matmul.allow_tf32 if gpu else None
    if gpu:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if args.threads or not gpu:
        torch.set_num_threads(args.threads or 1)
    try:
        name = torch.cuda.get_device_name(device) if gpu else f"CPU ({torch.get_num_threads()} threads)"
        print(f"device: {name}; torch {torch.__version__}; python {sys.version.split()[0]}")
        t0 = time.perf_counter()
        train, val, test, src_vocab, tgt_vocab = prepare(args)
        print(f"data: {len(train)} training pairs, {len(val)} validation, {len(test)} test; vocabularies "
              f"de {len(src_vocab)}, en {len(tgt_vocab)} (min_freq 2); prepared in {time.perf_counter() - t0:.1f} s")
        g = torch.Generator().manual_seed(args.seed)
        attention = None if args.attention == "none" else args.attention
        model = Seq2Seq(len(src_vocab), len(tgt_vocab), emb, hidden, attention=attention, cell=args.cell,
                        num_layers=args.layers, dropout=dropout, pad=PAD, bos=BOS, eos=EOS,
                        generator=g).to(device)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"model: {args.cell.upper()} encoder-decoder, attention={args.attention}, emb {emb}, hidden {hidden}, "
              f"encoder layers {args.layers}, dropout {dropout}, {n_params / 1e6:.2f} M parameters; "
              f"Adam lr {lr}, batch {args.batch_size}, budget {minutes} min")
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        start, best, best_state, epoch, steps, history = time.perf_counter(), math.inf, None, 0, 0, []
        budget = 60 * minutes
        while time.perf_counter() - start < budget:
            epoch += 1
            losses = []
            for batch in batches(train, args.batch_size, g, device):
                losses.append(train_step(model, opt, batch, clip=1.0))
                steps += 1
                if time.perf_counter() - start > budget:
                    break
            val_nll = evaluate_nll(model, val, device)
            elapsed = time.perf_counter() - start
            history.append({"epoch": epoch, "steps": steps, "train_nll": sum(losses) / len(losses),
                            "val_nll": val_nll, "seconds": elapsed})
            print(f"epoch {epoch:2d}  steps {steps:5d}  train {history[-1]['train_nll']:.3f}  "
                  f"val {val_nll:.3f} (ppl {math.exp(val_nll):6.2f})  {elapsed:6.1f} s", flush=True)
            if val_nll < best:
                best, best_state = val_nll, copy.deepcopy(model.state_dict())
        train_seconds = time.perf_counter() - start
        model.load_state_dict(best_state)
        refs = [y for _, y in test]
        results = {"device": name, "torch": torch.__version__, "train_seconds": train_seconds,
                   "steps": steps, "epochs": epoch, "best_val_nll": best, "params": n_params,
                   "history": history, "args": vars(args)}
        for beam in sorted({1, args.beam}):
            t = time.perf_counter()
            hyps = decode(model, test, tgt_vocab, beam, device)
            sec = time.perf_counter() - t
            cased = sacre_bleu(hyps, refs).score
            lower = sacre_bleu(hyps, refs, lowercase=True).score
            results[f"bleu_beam{beam}"] = cased
            results[f"bleu_lc_beam{beam}"] = lower
            results[f"decode_seconds_beam{beam}"] = sec
            print(f"test 2016 ({len(test)} sentences), {'greedy' if beam == 1 else f'beam {beam}'}: "
                  f"sacreBLEU {cased:.2f} (lowercased {lower:.2f}), decoded in {sec:.1f} s")
        if args.beam > 1:
            print(f"beam {args.beam} / greedy: BLEU {results[f'bleu_beam{args.beam}'] - results['bleu_beam1']:+.2f} "
                  f"points, decoding time x{results[f'decode_seconds_beam{args.beam}'] / results['decode_seconds_beam1']:.1f}")
        print("examples:")
        for (x, y), h in list(zip(test, hyps))[:3]:
            print(f"  src: {' '.join(src_vocab.decode(x))}\n  ref: {y}\n  out: {h}")
        goal = results[f"bleu_beam{args.beam}"] >= 28 and train_seconds <= 600 and gpu
        print(f"goal (>= 28 BLEU within 10 minutes on a GPU): {'met' if goal else 'not met'}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
        return results
    finally:
        torch.set_num_threads(old_threads)
        if gpu:
            torch.backends.cuda.matmul.allow_tf32 = old_tf32


if __name__ == "__main__":
    main()
