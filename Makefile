# Salvo: `make run` (install + materialise seeds/ into warehouse/) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV ?= $(shell command -v uv || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# Never fetch a Python interpreter: the project runs on the machine's Python 3.11.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: install run dev test test-slow test-cluster bench-cluster lint eval query report chaos \
	bench bench-scale docs clean dagster-home

# The optional `cluster` group (Ray) is installed when the NLP stage runs on Ray
# (SALVO_NLP_BACKEND=ray) and by the cluster targets; every other target syncs the
# environment to the lock file without it, exactly as before the group existed.
CLUSTER ?= $(filter ray,$(SALVO_NLP_BACKEND))
INSTALLED := $(VENV)/.installed$(if $(CLUSTER),-cluster)

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# Bytecode is compiled once here: otherwise every run compiles dagster, spaCy and the rest
# again wherever .pyc files are not written (PYTHONDONTWRITEBYTECODE), seconds of start-up.
$(INSTALLED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode $(if $(CLUSTER),--group cluster)
	rm -f $(VENV)/.installed $(VENV)/.installed-cluster
	touch $@

install: $(INSTALLED)

dagster-home:
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster-instance.yaml $(DAGSTER_HOME)/dagster.yaml

run: install dagster-home  ## materialise everything from seeds/ into warehouse/ and summarise
	$(BIN)/python -m assets.run

dev: install dagster-home  ## the Dagster UI and daemon on http://127.0.0.1:3000
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/python -m assets.dev -h 127.0.0.1 -p 3000

test: install  ## the test suite, without the slow end-to-end tier (make test-slow)
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: install  ## the slow tier: huge inputs, concurrent runs, chaos and bench smoke runs
	$(BIN)/python -m pytest -q -m slow

# The Ray backend against the local pool on a two-node local Ray cluster (tests/cluster).
test-cluster:  ## install the cluster group and run the tests that need it
	$(MAKE) install CLUSTER=1
	$(BIN)/python -m pytest -q tests/cluster

bench-cluster:  ## tokens/s of the Ray backend next to the local pool (prints a table)
	$(MAKE) install CLUSTER=1
	$(BIN)/python tools/bench_cluster.py $(BENCH_ARGS)

lint: install  ## ruff, mypy and the Dagster code location
	$(BIN)/ruff check pipeline assets tests tools
	$(BIN)/ruff format --check pipeline assets tests tools
	$(BIN)/mypy pipeline assets tools
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs

eval: dagster-home  ## score the extractor on the seeds and ../shared/eval/dev in both parse modes (PARSE=full: one; ERRORS=1 lists errors)
	$(BIN)/python -m tools.eval --shared $(SHARED) $(if $(ERRORS),--errors,) $(if $(PARSE),--parse $(PARSE),)

query: install  ## make query SQL="SELECT ..." against the published warehouse (read-only)
	$(BIN)/python -m pipeline.query "$$SQL"

report: install  ## the evidence report (report.html beside the published warehouse), no pipeline run
	$(BIN)/python -m pipeline.report

chaos: install  ## random-kill trials against the real pipeline (TRIALS=50 by default)
	$(BIN)/python -m tools.chaos --trials $${TRIALS:-50}

bench: install  ## throughput, memory and incremental-run benchmark (prints a table)
	$(BIN)/python -m tools.bench

# The warehouse at 10,000 and 100,000 documents by replicating parsed rows (no parse);
# SIZES=10000,100000,1000000 adds the million (about an hour more, and some 85 GB of free
# disk with the current storage: docs/performance.md).
bench-scale: install  ## warehouse runs, marts, publish, disk and queries at scale (prints a table)
	$(BIN)/python -m tools.bench_scale --sizes $${SIZES:-10000,100000} $(BENCH_ARGS)

docs: install  ## rewrite the output under every SQL example of README.md and docs/
	$(BIN)/python -m tools.docs_examples --write

clean:
	rm -rf $(VENV) .tools warehouse/*.duckdb warehouse/.*.duckdb* warehouse/*.wal warehouse/*.segments
