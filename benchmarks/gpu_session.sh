#!/usr/bin/env bash
# One stage of the GPU measurements, run ON the lent GPU machine from the repository root, e.g.
#   device run: bash benchmarks/gpu_session.sh tests      (carry: [".gpu"])
# Each stage fits one 10-minute device call; logs and JSON go to $OUT (the device tool brings them
# back). Stages: tests, lstm, word2vec, lm, charlm, seq2seq. See benchmarks/GPU.md for the plan and budget.
set -euo pipefail
stage=${1:?usage: bash benchmarks/gpu_session.sh tests|lstm|word2vec|lm|charlm|seq2seq}
out=${OUT:-/tmp/seq_gpu_out}
py=${PYTHON:-python3}   # on the GPU machine, python3 is the interpreter that holds CUDA PyTorch
mkdir -p "$out"
export PYTHONPATH="$PWD/reference:$PWD/course${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export SEQ_DATA_DIR="$PWD/.gpu/data"
[ -d "$SEQ_DATA_DIR" ] || { echo "no .gpu/data: run benchmarks/gpu_prep.sh here and carry .gpu" >&2; exit 1; }
if ! "$py" -c "import gensim" 2>/dev/null && compgen -G ".gpu/whl/*.whl" >/dev/null; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl
  export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
  "$py" -c "import sys, torch; print('torch', torch.__version__, 'python', sys.version.split()[0])"; } \
  | tee "$out/machine.txt"
log="$out/$stage.log"
case "$stage" in
  tests)    "$py" -m pytest -m gpu -q -p no:cacheprovider tests 2>&1 | tee "$log" ;;
  lstm)     "$py" benchmarks/lstm.py 2>&1 | tee "$log" ;;
  word2vec) "$py" benchmarks/word2vec.py --device cuda --json "$out/word2vec.json" 2>&1 | tee "$log" ;;
  lm)       # the goal: 2-layer LSTM on WikiText-2, full vocabulary, valid PP <= 90 within 10 minutes
            "$py" benchmarks/language_models.py --skip-chars --max-vocab 0 --eval-tokens 0 --hidden 650 \
              --layers 2 --dropout 0.5 --word-batch 20 --word-lr 1e-3 --word-epochs 40 --word-steps 0 \
              --word-minutes 8 --rnn-epochs 0 --eval-every 1000 --no-progress \
              --json "$out/language_models_words.json" 2>&1 | tee "$log" ;;
  charlm)   # the goal: char LSTM on Tiny Shakespeare at valid loss <= 1.5 nats/char
            "$py" benchmarks/language_models.py --skip-words --char-epochs 30 --char-steps 0 \
              --char-hidden 512 --char-layers 2 --char-dropout 0.2 --no-progress \
              --json "$out/language_models_chars.json" 2>&1 | tee "$log" ;;
  seq2seq)  "$py" benchmarks/seq2seq_multi30k.py --device cuda --minutes 8 --json "$out/seq2seq.json" 2>&1 \
              | tee "$log" ;;
  *) echo "unknown stage $stage" >&2; exit 2 ;;
esac
