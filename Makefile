# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench audit install install-dev clean lint messages

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: embedded PostgreSQL + Redis, migrate, demo data, app + Celery worker + beat. Ctrl-C stops all.
run: install
	$(PY) scripts/dev.py run

## make test: quality gates and the whole suite against a throwaway embedded PostgreSQL. ARGS=... runs a subset.
test: install-dev
	$(PY) scripts/dev.py test $(ARGS)

## make bench: 100,000 synthetic cases (built once, kept in .data/bench-pg), timed against baselines.
bench: install-dev
	$(PY) scripts/dev.py bench

## make audit: known vulnerabilities of the installed packages (pip-audit). Reports; `make test` runs it
## too and never fails on it (the advisory database changes with the outside world). AUDIT_STRICT=1 fails.
audit: install-dev
	$(PY) -m pip_audit --progress-spinner off -l $(if $(AUDIT_STRICT),,|| true)

## make messages: extract new strings into locale/{fr,ar} (translate them, then scripts/i18n.py compile).
messages: install-dev
	$(PY) scripts/i18n.py update

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) staticfiles
