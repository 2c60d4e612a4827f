# Two commands on a fresh clone:
#   make demo   create .venv, install, run ingest + digest on the replayed seed outlets
#   make test   install test tools and run the whole test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export MEDIA_MONITOR_DATA_DIR ?= $(CURDIR)/data
export GX_ANALYTICS_ENABLED := False
export NO_COLOR := 1

.PHONY: install install-test demo test lint bench airflow-ui airflow-native clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/pip install -q --no-deps -e .

install-test: install
	$(BIN)/pip install -q -r requirements-test.txt -c constraints.txt
	bash scripts/install-browser.sh

demo: install
	bash scripts/demo.sh

test: install-test
	bash scripts/test.sh

# The benchmarks in one go (loopback and the local PostgreSQL only; ~1 h); results: bench/RESULTS.md.
# bench/e2e_scheduler.py and bench/parse_and_memory.py start Airflow themselves: see bench/README.md.
bench: install-test
	$(BIN)/python bench/poll_feeds.py
	$(BIN)/python bench/article_path.py
	$(BIN)/python bench/validation_batch.py
	$(BIN)/python bench/extraction/evaluate.py
	$(BIN)/python bench/tagging/evaluate.py
	$(BIN)/python bench/tagging/stories_eval.py
	$(BIN)/python bench/tagging/places_eval.py
	$(BIN)/python bench/warehouse_1m.py
	$(BIN)/python bench/export_1m.py
	$(BIN)/python bench/story_index_scale.py --postgres 900000
	$(BIN)/python bench/alert_latency.py

lint: install-test
	$(BIN)/ruff check dags plugins include tests bench
	$(BIN)/ruff check --select AIR --preview dags plugins include
	$(BIN)/mypy

airflow-ui: install
	bash scripts/airflow-ui.sh

airflow-native: install
	bash scripts/airflow-native.sh

clean:
	rm -rf $(VENV) .airflow data
