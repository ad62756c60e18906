# Gongkai 公开 — the two commands a new user needs are `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8001
OUT    ?= build
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser build validate serve reload lint test bench loadtest cluster cluster-tools image clean

# Re-install when the project's dependencies change; the venv is created when missing.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# The browser tests (tests/browser/) drive Debian's Chromium through Playwright; Chinese pages
# need CJK fonts to render. Installed with apt when missing and we are root; otherwise stop
# and say what to install (the browser tests are part of the suite, never skipped).
CHROMIUM         ?= /usr/bin/chromium
BROWSER_PACKAGES := chromium fonts-noto-cjk
export GONGKAI_CHROMIUM := $(CHROMIUM)

browser:                  ## install Chromium and CJK fonts for the browser tests (apt, as root)
	@if [ -x "$(CHROMIUM)" ] && fc-list :lang=zh 2>/dev/null | grep -q .; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(BROWSER_PACKAGES) for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES); \
	else \
	  echo "make test: the browser tests need the Debian packages '$(BROWSER_PACKAGES)' ($(CHROMIUM) and a Chinese font)." >&2; \
	  echo "  install them as root:  apt-get install -y --no-install-recommends $(BROWSER_PACKAGES)" >&2; \
	  echo "  or point CHROMIUM=/path/to/chromium at another build" >&2; \
	  exit 1; \
	fi

build: install            ## validate + load every dataset into $(OUT)/site (atomic swap)
	$(PY) -m gongkai build --out $(OUT)

validate: install         ## validate every dataset, print a bilingual report
	$(PY) -m gongkai validate

serve: build              ## build, then serve at http://127.0.0.1:$(PORT)
	$(PY) -m gongkai serve --out $(OUT) --port $(PORT)

reload: install           ## make every running server of $(OUT) serve its latest build (no request dropped)
	$(PY) -m gongkai reload --out $(OUT)

lint: install             ## ruff (lint, format check) and mypy (files and options: pyproject.toml)
	$(PY) -m ruff check gongkai plugins tests
	$(PY) -m ruff format --check gongkai plugins tests
	$(PY) -m mypy

test: install lint browser  ## lint, then the whole test suite (what CI runs), browser tests included
	$(PY) -m pytest -q --durations=15

# The benches also need the baselines' tools (pandas, for the `exports` bench): the `bench` extra.
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)     ## benchmarks → $(OUT)/bench.json
	$(PY) -m gongkai.bench --out $(OUT)/bench.json

# A bounded load (locust) on a local server of $(OUT) on 127.0.0.1, with a rebuild swapped in
# and a worker killed halfway; figures → $(OUT)/loadtest.json. LOADTEST_CLIENTS=50 and
# LOADTEST_SECONDS=60 by default (also LOADTEST_WORKERS, LOADTEST_THINK, LOADTEST_ABUSE).
LOADTEST_STAMP := $(VENV)/.loadtest-stamp
$(LOADTEST_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[loadtest]'
	@touch $(LOADTEST_STAMP)

loadtest: $(LOADTEST_STAMP)  ## load test with a worker kill and a reload → $(OUT)/loadtest.json
	$(PY) -m gongkai.loadtest --out $(OUT) --root .

# Past one machine (README "Deployment"). `make cluster` runs N replicas of $(OUT)/cluster on
# 127.0.0.1 behind nginx (deploy/nginx/gongkai-cache.conf) and measures them with wrk: one
# process vs the replicas vs the cache tier, a replica killed, a release rolled out →
# $(OUT)/cluster.json. CLUSTER_REPLICAS=2, CLUSTER_SECONDS=10 (per phase) by default.
CLUSTER_REPLICAS ?= 2
CLUSTER_SECONDS  ?= 10
CLUSTER_PACKAGES := nginx wrk

cluster-tools:            ## install nginx and wrk (Debian packages) when missing, as root
	@if command -v wrk >/dev/null 2>&1 && { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(CLUSTER_PACKAGES); \
	else \
	  echo "make cluster needs the Debian packages '$(CLUSTER_PACKAGES)': apt-get install -y $(CLUSTER_PACKAGES) / 需要 Debian 软件包 $(CLUSTER_PACKAGES)" >&2; exit 1; \
	fi

cluster: install cluster-tools  ## replicas + nginx cache tier on 127.0.0.1, measured → $(OUT)/cluster.json
	$(PY) -m gongkai.cluster --out $(OUT)/cluster --report $(OUT)/cluster.json \
	  --replicas $(CLUSTER_REPLICAS) --seconds $(CLUSTER_SECONDS)

# The image: the code and one built release (the datasets as they are now), non-root
# (Dockerfile). IMAGE=registry.example/gongkai:<tag> to name it for a registry.
IMAGE ?= gongkai:latest

image:                    ## docker build → $(IMAGE) (needs Docker; the Dockerfile is checked by hadolint in make test)
	@command -v docker >/dev/null 2>&1 || { echo "make image needs Docker (docker build) / make image 需要 Docker" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make image: no Docker daemon answers here (docker info) / 没有可用的 Docker 守护进程" >&2; exit 1; }
	docker build --pull -t $(IMAGE) .

clean:
	rm -rf $(OUT)
