# Two commands do everything on a fresh clone: `make run` and `make test`.
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PORT    ?= 8501
HOST    ?= 127.0.0.1
INDEX   ?= index
CORPUS  ?= corpus
MODEL   ?= e5-small
SHARED  ?= ../shared

LAWS    := $(SHARED)/datasets/vietnamese-laws
COMPARE_DOCS := $(LAWS)/Luat-Doanh-nghiep-2014-259730.txt $(LAWS)/Luat-Doanh-nghiep-so-59-2020-QH14-427301.txt \
	$(LAWS)/Luat-Kinh-doanh-bao-hiem-2000-24-2000-QH10-47229.txt $(LAWS)/Luat-Kinh-doanh-bao-hiem-2022-465916.txt \
	$(SHARED)/documents

.PHONY: system-deps venv index run api test test-fast lint eval bench clean

$(STAMP): pyproject.toml
	@# a clear message instead of a venv error (or a wrong Python) when 3.11 is absent
	@test -x $(BIN)/python || { test -n "$(PY)" && $(PY) -c 'import sys, ensurepip; \
		sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null; } || { \
		echo "Python 3.11 (with venv/ensurepip) is needed to create $(VENV); found: $(or $(PY),no python3)." >&2; \
		echo "Install it: sudo apt-get install python3.11 python3.11-venv (or pyenv install 3.11)," \
			"or point to one: make $(MAKECMDGOALS) PY=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# the test extra pulls in the scale-out extra (Milvus, Ray): make test runs those tests too
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

index: venv
	$(BIN)/python -m indexer update $(CORPUS) --index $(INDEX) --model $(MODEL)

# HOST=0.0.0.0 serves other machines too; see "Serving a team" in the README before doing so.
run: index
	@bash scripts/system-deps.sh --run
	VNSEARCH_INDEX=$(INDEX) VNSEARCH_CORPUS=$(CORPUS) $(BIN)/streamlit run search_app/page/app.py \
		--server.address $(HOST) --server.port $(PORT) --server.maxUploadSize 200

# The HTTP API (docs/api.md); HOST=0.0.0.0 serves other machines: set VNSEARCH_API_TOKEN first.
API_PORT ?= 8000
WORKERS  ?= 1
api: index
	$(BIN)/python -m search_app api --index $(INDEX) --host $(HOST) --port $(API_PORT) --workers $(WORKERS)

# System packages the tests need (chromium, fonts, tesseract + vie model): installed when root, else a
# message with the apt-get command; runs before the venv so a fresh machine fails in seconds, not minutes.
system-deps:
	@bash scripts/system-deps.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/python -m mypy indexer search_app

# system-deps first, also under make -j: the recursive make starts only after it succeeded.
test: system-deps
	@$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -q

# The inner loop: everything but the tests marked slow (real model, servers, subprocesses, OCR, browser),
# on every core (pytest-xdist; each test writes only under its own tmp_path).
test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow" -n auto

eval: index
	$(BIN)/python -m benchmarks.eval --gold $(SHARED)/eval/dev_queries.jsonl --index $(INDEX) \
		--gold-docs $(SHARED)/eval/dev_resolutions.jsonl --docs $(SHARED)/corpus --docs $(SHARED)/documents \
		--answerable --shared $(SHARED) --beir $(SHARED)/datasets/alqac-2023-2025 --unaccented --model $(MODEL) \
		--json eval/results.json
	@# knowing when there is no answer on three corpora: the demo interview, the political corpus, laws
	$(BIN)/python -m benchmarks.answerable_corpora --shared $(SHARED) --cache .cache/answerable \
		--model $(MODEL) --json eval/answerable_corpora.json
	@# document questions (issue 31): the card and its answer on the political corpus, both halves
	$(BIN)/python -m benchmarks.document_questions --shared $(SHARED) --cache .cache/answerable --no-update \
		--model $(MODEL) --json eval/document_questions.json
	@# the implementation map (issue 21): 03/NQ-CP's items against 57-NQ/TW's tasks
	$(BIN)/python -m indexer update $(SHARED)/corpus $(SHARED)/documents --index .cache/eval-documents \
		--model $(MODEL) --quiet
	$(BIN)/python -m benchmarks.implementation_eval --index .cache/eval-documents --json eval/implementation.json
	@# compare (issue 30): the Enterprise Laws, 69-KL/TW vs 20-NQ/TW, on both backends; the threshold's tuning pair
	$(BIN)/python -m indexer update $(COMPARE_DOCS) --index .cache/eval-compare --model $(MODEL) --quiet
	$(BIN)/python -m indexer update $(COMPARE_DOCS) --index .cache/eval-compare-milvus --backend milvus \
		--vectors-from .cache/eval-compare --model $(MODEL) --quiet
	$(BIN)/python -m benchmarks.compare_eval --index .cache/eval-compare --tune benchmarks/compare_tune.jsonl \
		--json eval/compare_tune.json
	$(BIN)/python -m benchmarks.compare_eval --index .cache/eval-compare --milvus-index .cache/eval-compare-milvus \
		--json eval/compare.json
	$(BIN)/python -c "from indexer.store import milvus; milvus.stop_lite_server('.cache/eval-compare-milvus')"

clean:
	rm -rf $(INDEX) .cache .pytest_cache

# EMBED_LAWS: the law sample built by each embedding engine (30: about 25 min on 2 quiet cores)
EMBED_LAWS ?= 30
bench: venv
	$(BIN)/python -m benchmarks.bench
	$(BIN)/python -m benchmarks.embed_bench --laws $(EMBED_LAWS) --json .cache/bench/embed.json
	$(BIN)/python -m benchmarks.scale
	$(BIN)/python -m benchmarks.page_load --index $(INDEX) --sessions 10 --searches 5
	$(BIN)/python -m benchmarks.page_protocol --index $(INDEX) --sessions 10 --searches 5 \
		--queries $(SHARED)/eval/dev_queries.jsonl
	$(BIN)/python -m benchmarks.api_bench --index $(INDEX)
	@# a warm batch search against its query embeddings alone, stage by stage (ALQAC, hash vectors, e5 queries)
	$(BIN)/python -m indexer update $(SHARED)/datasets/alqac-2023-2025/corpus.jsonl --index .cache/bench/alqac-hash \
		--model hash --quiet
	$(BIN)/python -m benchmarks.pipeline_cost --index .cache/bench/alqac-hash \
		--queries $(SHARED)/datasets/alqac-2023-2025 --query-model e5-small
