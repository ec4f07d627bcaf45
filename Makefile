# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PORT ?= 5000
# The suite on every core (pytest-xdist; at most 4 workers), a test module's tests on one worker so its
# module-scoped fixtures (a live server, a fitted analysis) are made once. `make test PYTEST_ARGS=...` overrides.
PYTEST_ARGS ?= -n auto --maxprocesses 4 --dist loadscope

.PHONY: run test lint audit bench install lock system-deps clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs the pinned versions of requirements-dev.lock (`make lock` refreshes it), then the project itself.
$(STAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Pins every dependency: requirements.lock (what the Docker image installs) and requirements-dev.lock
# (with the test and lint tools: make install, CI). Run after changing pyproject.toml's dependencies.
LOCK_OPTIONS := --quiet --strip-extras --no-emit-index-url --no-emit-find-links
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile $(LOCK_OPTIONS) --output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_OPTIONS) --extra dev --output-file requirements-dev.lock pyproject.toml

# Debian's chromium (browser tests), poppler-utils (PDF pages as PNG), HarfBuzz's subsetter (WeasyPrint
# embeds font subsets with it) and R with mclust (the LPA cross-check); installed where apt works.
system-deps:
	@if [ -x /usr/bin/chromium ] && command -v pdftoppm >/dev/null && ldconfig -p | grep -q libharfbuzz-subset \
		&& command -v Rscript >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "Installing chromium, poppler-utils, libharfbuzz-subset0 and R (mclust) with apt-get ..."; \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils libharfbuzz-subset0 r-base-core r-cran-mclust >/dev/null; \
	else echo "Note: install Debian's chromium, poppler-utils and libharfbuzz-subset0, r-base-core and r-cran-mclust for the browser, PDF and mclust tests."; fi

run: install
	$(BIN)/studyapp serve --port $(PORT)

test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Known vulnerabilities in the installed dependencies (PyPI advisory data). Fails on a finding; where the
# advisory service cannot be reached, pip-audit lists the packages it could not check.
audit: install
	@$(BIN)/pip freeze --exclude-editable > $(VENV)/requirements-audit.txt
	$(BIN)/pip-audit --progress-spinner off -r $(VENV)/requirements-audit.txt

# The gettext catalogues: extract every text people see (babel.cfg: Python and templates) into
# studyapp/translations/messages.pot, merge it into each language's messages.po (new texts come in
# untranslated; obsolete ones go), and compile the .mo files the app reads. Commit all three: a fresh
# clone, `make run` and the Docker image then need no build step. tests/test_translations.py fails on
# an untranslated, fuzzy or stale message.
CATALOGUES := studyapp/translations
EXTRACT_OPTIONS := -F babel.cfg -k _l -k lazy_gettext -k translated:2 -k ptranslated:2c,3 -k ntranslated:2,3 -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 --add-location file --sort-by-file --project "Bridge the Gap"
translations: install
	$(BIN)/pybabel extract $(EXTRACT_OPTIONS) -o $(CATALOGUES)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOGUES) --statistics

# Every benchmark in bench/ (files starting with _ are their helpers); BENCH_ARGS=--quick for the short runs.
bench: install
	@for script in $$(ls bench/[!_]*.py); do echo "== $$script"; $(BIN)/python $$script $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
