# The two set-up commands of the README: `make demo` and `make test` create the virtualenv,
# install what they need and run. Nothing else has to be installed by hand.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test bench lint clean

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev,spark,embeddings,lake]'
	touch $@

demo: $(VENV)/.core
	$(VENV)/bin/socialaudit demo --out demo-output

test: $(VENV)/.dev
	$(PY) -m pytest -q

lint: $(VENV)/.dev
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(PY) -m mypy src

# Every figure the README quotes: import/audit, pandas comparison, growth curve, listening
# quality and speed, network, report, the lake store and Spark (parity and rates, 2.8 M rows).
bench: $(VENV)/.dev
	$(PY) benchmarks/bench_import_audit.py
	$(PY) benchmarks/bench_pandas.py
	$(PY) benchmarks/bench_growth.py
	$(PY) benchmarks/eval_listening.py
	$(PY) benchmarks/eval_sentiment.py
	$(PY) benchmarks/eval_spam_language.py
	$(PY) benchmarks/eval_topics.py
	$(PY) benchmarks/bench_listening.py
	$(PY) benchmarks/bench_network.py
	$(PY) benchmarks/bench_report.py
	$(PY) benchmarks/bench_serve.py
	$(PY) benchmarks/bench_incremental.py
	$(PY) benchmarks/bench_load.py
	$(PY) benchmarks/bench_lake_formats.py
	$(PY) benchmarks/bench_lake_spark.py --rows 280000 --parts 4 --enrich-rows 20000
	$(PY) benchmarks/bench_lake_spark.py --rows 2800000 --parts 4 --masters 'local[2]'

clean:
	rm -rf $(VENV) demo-output benchmarks/out
