# Gongkai 公开 — the two commands a new user needs are `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8001
OUT    ?= build
STAMP  := $(VENV)/.installed-stamp

.PHONY: install build validate serve test bench clean

# Re-install when the project's dependencies change; the venv is created when missing.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

build: install            ## validate + load every dataset into $(OUT)/site (atomic swap)
	$(PY) -m gongkai build --out $(OUT)

validate: install         ## validate every dataset, print a bilingual report
	$(PY) -m gongkai validate

serve: build              ## build, then serve at http://127.0.0.1:$(PORT)
	$(PY) -m gongkai serve --out $(OUT) --port $(PORT)

test: install             ## the whole test suite (what CI runs)
	$(PY) -m pytest -q

bench: install            ## benchmarks → $(OUT)/bench.json
	$(PY) -m gongkai.bench --out $(OUT)/bench.json

clean:
	rm -rf $(OUT)
