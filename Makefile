# The README's commands. Everything runs from a fresh clone with Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= instance
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: serve test bench lint browser ocr redis collection clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,dev]'
	touch $@

## serve: set up, ingest the bundled archive/ collection if the index is empty, serve it, and
## watch the ingest/ inbox beside the web server (stopped with it)
serve: $(VENV)/.installed
	$(BIN)/magsearch --data $(DATA) ingest --if-empty archive/
	$(BIN)/magsearch --data $(DATA) parallels load archive/.parallels.json
	$(BIN)/magsearch --data $(DATA) watch ingest/ & watcher=$$!; \
	trap 'kill $$watcher 2>/dev/null; wait $$watcher' EXIT INT TERM; \
	$(BIN)/magsearch --data $(DATA) serve --host $(HOST) --port $(PORT)

## test: set up (packages, a headless Chromium, OCR, redis-server) and run the whole suite
test: $(VENV)/.installed browser ocr redis
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## browser: Debian's Chromium for the browser tests (never a browser download)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	      || echo "could not install chromium: browser tests will be skipped" >&2; \
	  else echo "chromium not installed and not root: browser tests will be skipped" >&2; fi; }

## ocr: Debian's OCRmyPDF and Tesseract (English, French, German, Russian, Spanish) for scanned
## pages, and pdftoppm for the OCR benchmark; without them scans stay "OCR needed" and OCR tests skip
OCR_PACKAGES := ocrmypdf tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-deu \
	tesseract-ocr-rus tesseract-ocr-spa poppler-utils
ocr:
	@{ command -v ocrmypdf && command -v tesseract && command -v pdftoppm \
	   && tesseract --list-langs 2>/dev/null | grep -qx spa; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OCR_PACKAGES)) >/dev/null \
	      || echo "could not install OCR (ocrmypdf, tesseract): scanned pages stay 'OCR needed', OCR tests will be skipped" >&2; \
	  else echo "OCR (ocrmypdf, tesseract) not installed and not root: scanned pages stay 'OCR needed', OCR tests will be skipped" >&2; fi; }

## redis: Debian's redis-server for the rate-limit and job-queue tests (each starts its own on a free port)
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null \
	      || echo "could not install redis-server: its tests will be skipped" >&2; \
	  else echo "redis-server not installed and not root: its tests will be skipped" >&2; fi; }

## bench: ingest, index, query and relevance benchmarks; figures go to docs/benchmarks.md by hand
bench: $(VENV)/.bench
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# the benchmark-only packages (the bench extra: tantivy, a reference engine)
$(VENV)/.bench: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[bench]'
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

## collection: rebuild the bundled collection's PDFs from their sources
collection: $(VENV)/.installed
	$(BIN)/python scripts/build_collection.py

clean:
	rm -rf $(VENV) $(DATA) test-artifacts
