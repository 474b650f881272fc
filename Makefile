# Two commands do everything on a fresh clone: `make run` and `make test`.
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PORT    ?= 8501
INDEX   ?= index
CORPUS  ?= corpus
MODEL   ?= e5-small
SHARED  ?= ../shared

.PHONY: venv index run test lint eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

index: venv
	$(BIN)/python -m indexer update $(CORPUS) --index $(INDEX) --model $(MODEL)

run: index
	VNSEARCH_INDEX=$(INDEX) VNSEARCH_CORPUS=$(CORPUS) $(BIN)/streamlit run search_app/app.py \
		--server.address 127.0.0.1 --server.port $(PORT)

lint: venv
	$(BIN)/ruff check .

test: venv lint
	$(BIN)/python -m pytest -q

eval: index
	$(BIN)/python -m benchmarks.eval --gold $(SHARED)/eval/dev_queries.jsonl --index $(INDEX) \
		--beir $(SHARED)/datasets/alqac-2023-2025 --model $(MODEL) --json eval/results.json

clean:
	rm -rf $(INDEX) .cache .pytest_cache

bench: venv
	$(BIN)/python -m benchmarks.bench
