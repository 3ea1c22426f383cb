"""Benchmark: seqmodels' batched word2vec trainer against gensim's Word2Vec.

One run, same corpus (WikiText-2 train, lowercased, one paragraph per
sentence, words seen < min_count times dropped), same settings (skip-gram,
negative sampling, D, R, K, subsampling threshold, epochs). Reports words
per second (corpus tokens kept after min_count, times epochs, divided by
the training wall time; vocabulary building is not timed for either) and the three quality
scores of the word vectors W: Google analogy accuracy, WordSim-353 and
SimLex-999 Spearman correlations.

    SEQ_DATA_DIR=../shared/data .venv/bin/python benchmarks/word2vec.py [--epochs 5] [--device cuda]

Goal (issue #6): on an H100, >= 5x gensim's throughput (gensim on all CPU
cores) with analogy accuracy and WordSim-353 Spearman within 2 points.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import torch

from seqmodels.data import load_wikitext2
from seqmodels.embeddings import build_corpus, evaluate_analogies, evaluate_word_pairs, train_word2vec


def corpus(max_lines: int | None = None):
    lines = [line.lower().split() for line in load_wikitext2("train") if line.strip()]
    return lines[:max_lines] if max_lines else lines


def scores(E, itos) -> dict:
    a = evaluate_analogies(E, itos)
    return {
        "analogy": a["accuracy"],
        "analogy_answered": a["answered"],
        "wordsim353": evaluate_word_pairs(E, itos, "wordsim353")["spearman"],
        "simlex999": evaluate_word_pairs(E, itos, "simlex999")["spearman"],
    }


def run_gensim(sentences, itos, tokens, args) -> dict:
    from gensim.models import Word2Vec

    workers = args.workers or os.cpu_count()
    model = Word2Vec(vector_size=args.dim, window=args.window, negative=args.negatives, sg=1, hs=0,
                     min_count=args.min_count, sample=args.sample, workers=workers, seed=args.seed,
                     alpha=args.gensim_lr)
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=len(sentences), epochs=args.epochs)
    seconds = time.perf_counter() - start
    # The same count as ours: tokens kept after min_count (gensim's corpus_total_words also counts the
    # dropped rare words, about 1.4% more on WikiText-2).
    words = tokens * args.epochs
    E = torch.tensor(model.wv.vectors[[model.wv.key_to_index[w] for w in itos]])
    return {"words": words, "seconds": seconds, "words_per_second": words / seconds, "workers": workers,
            **scores(E, itos)}


def run_ours(ids, sid, counts, itos, args) -> dict:
    r = train_word2vec(ids, counts, dim=args.dim, window=args.window, negatives=args.negatives,
                       model="skipgram", epochs=args.epochs, lr=args.lr, sample=args.sample,
                       sentence_ids=sid, batch_size=args.batch_size, seed=args.seed, device=args.device)
    return {"words": r.words, "seconds": r.seconds, "words_per_second": r.words_per_second,
            **scores(r.W.cpu(), itos)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negatives", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--lr", type=float, default=0.1, help="our start learning rate")
    p.add_argument("--gensim-lr", type=float, default=0.025, help="gensim's alpha (its default)")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--workers", type=int, default=0, help="gensim threads (0: all cores)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    p.add_argument("--max-lines", type=int, default=0, help="use only the first lines (smoke test)")
    p.add_argument("--skip-gensim", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads or os.cpu_count())

    sentences = corpus(args.max_lines or None)
    ids, sid, itos, counts = build_corpus(sentences, min_count=args.min_count)
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or "cpu"
    print(f"torch {torch.__version__}, device {args.device} ({device_name}), {os.cpu_count()} CPU cores, "
          f"torch threads {torch.get_num_threads()}")
    print(f"WikiText-2 train: {ids.numel():,} tokens kept, V = {len(itos):,}; skip-gram, D={args.dim}, "
          f"R={args.window}, K={args.negatives}, sample={args.sample}, epochs={args.epochs}")
    results = {"settings": vars(args), "tokens": ids.numel(), "vocab": len(itos), "torch": torch.__version__,
               "device": f"{args.device} ({device_name})"}
    results["ours"] = run_ours(ids, sid, counts, itos, args)
    if not args.skip_gensim:
        results["gensim"] = run_gensim(sentences, itos, ids.numel(), args)
    print(f"{'trainer':<10}{'words/s':>12}{'seconds':>9}{'analogy':>9}{'WS-353':>8}{'SL-999':>8}")
    for name in ("ours", "gensim"):
        if name in results:
            r = results[name]
            print(f"{name:<10}{r['words_per_second']:>12,.0f}{r['seconds']:>9.1f}{r['analogy']:>9.3f}"
                  f"{r['wordsim353']:>8.3f}{r['simlex999']:>8.3f}")
    if "gensim" in results:
        o, g = results["ours"], results["gensim"]
        print(f"throughput ratio ours/gensim ({g['workers']} workers): {o['words_per_second'] / g['words_per_second']:.2f}x; "
              f"analogy {100 * (o['analogy'] - g['analogy']):+.1f} points, "
              f"WordSim-353 {100 * (o['wordsim353'] - g['wordsim353']):+.1f} points")
        results["ratio"] = o["words_per_second"] / g["words_per_second"]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
