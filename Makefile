# Two commands for a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_SIZE ?= 50

.PHONY: run test lint typecheck pytest example schema messages install lock clean bench profile fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

## GraphiQL's browser files (web/package-lock.json), served by the service itself; without
## npm, or when npm ci fails, GraphiQL loads the same files from a CDN instead.
web/node_modules/.package-lock.json: web/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd web && npm ci --no-audit --no-fund --loglevel=error \
			|| echo "npm ci failed in web/: GraphiQL will load its files from a CDN" >&2; \
	fi

install: $(VENV)/.installed web/node_modules/.package-lock.json

## Set up, migrate, load demo data (into an empty database) and serve GraphiQL.
run: install
	$(BIN)/crm migrate
	$(BIN)/crm demo --size $(DEMO_SIZE) --if-empty
	CRM_ENV=$${CRM_ENV:-development} $(BIN)/crm serve --host $(HOST) --port $(PORT)

## Set up and run everything CI runs: ruff, import contracts, mypy, pytest, the example plugin.
test: install lint typecheck pytest example

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy core plugins schema tests bench clients

pytest:
	$(BIN)/pytest -q --durations=20

## The example plugin (docs/warranty) as a partner installs it: the package and the plugin in
## a venv of their own, the plugin type-checked strictly against the installed package and
## tested with the installed test kit only (its tests run from the installed copy).
EXAMPLE := docs/warranty
EXAMPLE_VENV := var/example-venv
example: install
	rm -rf $(EXAMPLE_VENV)
	$(PYTHON) -m venv $(EXAMPLE_VENV)
	$(EXAMPLE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(EXAMPLE_VENV)/bin/python -m pip install --quiet -c constraints.txt ".[dev]" ./$(EXAMPLE)
	rm -rf build $(EXAMPLE)/build  # what the wheel builds left in the tree
	cd $(EXAMPLE) && ../../$(EXAMPLE_VENV)/bin/mypy crm_warranty
	$(EXAMPLE_VENV)/bin/pytest -q -p no:cacheprovider -c $(EXAMPLE)/pyproject.toml \
		--rootdir $(EXAMPLE) --pyargs crm_warranty

## Benchmarks: tables printed and written to bench/results/ (SQLite without setup; set
## CRM_BENCH_POSTGRES_URL=postgresql://user@host:5432/postgres for PostgreSQL side by side,
## and BENCH_ARGS="--large-size 1000000" for deep pagination at a million customers).
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

## Fuzz the served API (schemathesis, as the demo administrator, every root field, the JSON
## scalar included): prints cases, statuses, error codes, server errors and tracebacks, and
## fails unless the last two are 0. FUZZ_ARGS="--cases 20000 --seed 7 --postgres URL".
FUZZ_ARGS ?= --cases 5000
fuzz: install
	$(BIN)/python -m bench.fuzz $(FUZZ_ARGS)

## Profile the hot path (the nested customer query) with pyinstrument and cProfile.
profile: install
	$(BIN)/python -m bench.profile

## Renew constraints.txt: resolve pyproject.toml's ranges in a fresh venv and pin what came.
LOCK_VENV := var/lock-venv
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet ".[dev]"
	rm -rf build
	{ sed -n '1,2p' constraints.txt; $(LOCK_VENV)/bin/pip freeze --exclude crm; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

## Regenerate the committed API contract after a schema change.
schema: install
	$(BIN)/crm export-schema > schema/schema.graphql

## Extract every `_("...")` message of core and of each built-in plugin and update their
## catalogs (core/locale, plugins/<name>/locale, schema/locale for the CLI); then translate
## each new empty msgstr.
MESSAGE_PACKAGES := core plugins/tickets plugins/sales plugins/surveys plugins/loyalty plugins/competitor schema
messages: install
	mkdir -p var
	for package in $(MESSAGE_PACKAGES); do \
		$(BIN)/pybabel -q extract -F babel.cfg -k _ --no-location --sort-output \
			--omit-header -o var/messages.pot $$package \
		&& if [ -f $$package/locale/zh_CN/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel -q update -i var/messages.pot -d $$package/locale -l zh_CN \
				--no-fuzzy-matching --omit-header --ignore-obsolete; \
		else \
			$(BIN)/pybabel -q init -i var/messages.pot -d $$package/locale -l zh_CN; \
		fi || exit 1; \
	done

clean:
	rm -rf $(VENV) var web/node_modules .pytest_cache .mypy_cache .ruff_cache
