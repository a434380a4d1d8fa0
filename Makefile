# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app recruiter
PORT ?= 5000
PGBIN ?= /usr/lib/postgresql/15/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install install-test system-test-deps lint format serve clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

instance/config.py:
	mkdir -p instance
	echo "SECRET_KEY = '$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')'" > $@

## run: install, migrate, load demo data into an empty database, serve app and mail worker
run: install instance/config.py
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	PORT=$(PORT) FLASK="$(FLASK)" ./scripts/serve

## system-test-deps: Debian's Chromium for the browser tests, PostgreSQL 15 for the database tests
system-test-deps:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@[ -x $(PGBIN)/initdb ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql-15; }

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r recruiter -c pyproject.toml

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## test: the whole suite, PostgreSQL and browser tests included
test: install-test system-test-deps lint
	$(BIN)/pytest

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

## bench: speed at 10,000 and 1,000,000 applications (gunicorn + wrk); NOT part of make test
bench: $(VENV)/.installed-bench
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache
