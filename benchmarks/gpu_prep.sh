#!/usr/bin/env bash
# Run HERE (not on the GPU machine) before the first device call of a session: the GPU machine has
# no network and sees only the repository, so the corpora and the one missing wheel travel in .gpu/
# (git-ignored; name it in the device tool's `carry`). See benchmarks/GPU.md.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${SEQ_DATA_DIR:-../shared/data}
[ -f "$src/SHA256SUMS" ] || { echo "gpu_prep: no corpora at $src (set SEQ_DATA_DIR)" >&2; exit 1; }
mkdir -p .gpu/data .gpu/whl
cp -r "$src"/tinyshakespeare "$src"/wikitext-2 "$src"/fra-eng "$src"/multi30k "$src"/SHA256SUMS .gpu/data/
# gensim (and its smart_open) is the one package of the word2vec benchmark that the GPU image lacks (Python 3.12 there)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .gpu/whl "gensim==4.4.*"
python3 -m pip download -q --no-deps --only-binary=:all: -d .gpu/whl "smart_open==7.*"   # gensim needs it (wrapt is there)
du -sh .gpu
