# Every target is a thin call of a Python command-line tool (seqcourse, pytest,
# jupyter-book), so users without make can run the same steps by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# A known CPU torch is installed first when none is present, so the range in
# pyproject.toml is already satisfied and pip never pulls a multi-GB CUDA build.
# GPU users: make TORCH_SPEC='torch==2.11.*' (or install torch into .venv first).
TORCH_SPEC ?= torch==2.13.*
STAMP := $(VENV)/.installed-stamp
# Chapters, tests and graded notebooks use small tensors, for which one thread is several times
# faster than two on a busy 2-core machine (measured: 0.3 s vs 3.9 s for 100 training steps of
# chapter 1). Override for big runs: make book OMP_NUM_THREADS=8 SEQ_FULL=1
export OMP_NUM_THREADS ?= 1
# Real corpora: the course's shared copy when it sits beside the checkout (CI, benchmarks);
# otherwise seqmodels.data downloads into its cache (with a sha256 check).
ifneq ($(wildcard ../shared/data/README.md),)
export SEQ_DATA_DIR ?= $(abspath ../shared/data)
endif

.PHONY: env book test test-fast release grade report check browser-deps sandbox-deps db-deps mathjax clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e '.[course]'
	touch $@

env: $(STAMP)

mathjax: env
	$(PY) -m seqcourse.cli mathjax

book: env mathjax
	$(PY) -m seqcourse.cli book

browser-deps:
	$(PYTHON) course/seqcourse/ensure_system.py chromium

# bubblewrap: the sandbox `grade` runs each student's answers in (installed with apt-get when missing).
sandbox-deps:
	$(PYTHON) course/seqcourse/ensure_system.py bubblewrap

# PostgreSQL: the server the sharded-grading test starts (tests/_postgres.py); grading itself needs
# only a reachable server, not this package.
db-deps:
	$(PYTHON) course/seqcourse/ensure_system.py postgresql

# The whole suite. Only the browser test reads the website, so the book is built (its log in
# book/_build/book.log, a failure's summary on the terminal) while the other tests run: on a
# 2-core machine the two share the cores instead of waiting for each other. The browser test
# follows once both are done. --durations: where the suite's time goes, in the CI log.
test: env mathjax browser-deps sandbox-deps db-deps
	@mkdir -p book/_build
	@echo "make test: building the website in the background (log: book/_build/book.log)"
	@$(PY) -m seqcourse.cli book > book/_build/book.log & book=$$!; \
	trap 'kill $$book 2>/dev/null' INT TERM; \
	$(PY) -m pytest -m "not browser" --durations=15; tests=$$?; \
	wait $$book; built=$$?; \
	if [ $$built -ne 0 ]; then \
		echo "make test: the website build failed (see above and book/_build/book.log)"; exit 1; fi; \
	echo "make test: website built; chapter execution times:"; \
	grep -o '[^/]*\.md: Executed notebook in .*seconds' book/_build/book.log | sed 's/^/  /'; \
	$(PY) -m pytest -m browser --durations=5; browser=$$?; \
	[ $$tests -eq 0 ] && [ $$browser -eq 0 ]

# The suite without the website build and the browser test (quick loop while editing).
test-fast: env sandbox-deps db-deps
	$(PY) -m pytest -m "not browser"

release: env
	$(PY) -m seqcourse.cli release

grade: env sandbox-deps
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR  (DIR/<student_id>/<assignment>/<notebook>.ipynb)"; exit 2; }
	$(PY) -m seqcourse.cli grade "$(SUBMISSIONS)"

# grades.csv, feedback and the copy report of a gradebook (after sharded grading: make report DB=URL)
report: env
	$(PY) -m seqcourse.cli report $(if $(DB),--db "$(DB)")

check: env
	@test -n "$(NOTEBOOK)" || { echo "usage: make check NOTEBOOK=exercises/<assignment>/<notebook>.ipynb"; exit 2; }
	$(PY) -m seqcourse.cli check "$(NOTEBOOK)"

clean:
	rm -rf book/_build .mathjax grading
