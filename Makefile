# Each target creates .venv itself. PYTHON may point at another interpreter (>= 3.11).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= civic.db
HOST ?= 127.0.0.1
PORT ?= 8000
# two workers: the suite runs in about half the time on a 2-core machine
PYTEST_ARGS ?= -n 2

.PHONY: run test soak bench bench-http bench-large install install-test clean messages browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory browser
	touch $@

# The browser tests drive Debian's Chromium (a test tool may not download a browser of its own);
# the CJK fonts make Korean pages render in screenshots.
browser:
	@command -v chromium >/dev/null && dpkg -s fonts-noto-cjk >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# a development instance: text messages (the demo's voting codes) go to $(DB).outbox.jsonl
run: install
	CIVIC_OUTBOX=$${CIVIC_OUTBOX:-on} $(BIN)/civic demo --db $(DB) --if-empty
	CIVIC_OUTBOX=$${CIVIC_OUTBOX:-on} $(BIN)/civic serve --db $(DB) --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long variants of the reliability suite (not part of `make test`): many more generated
# requests per API operation and caller.
SOAK_EXAMPLES ?= 200
SOAK_KILLS ?= 50
soak: install-test
	CIVIC_FUZZ_EXAMPLES=$(SOAK_EXAMPLES) CIVIC_KILLS=$(SOAK_KILLS) $(BIN)/python -m pytest tests/reliability $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python -m benchmarks

# HTTP under load only (part of `make bench` too): civic serve --workers 2 on a throw-away
# PostgreSQL and one process on SQLite, driven by locust; BENCH_HTTP_SECONDS per step (default 12).
bench-http: install-test
	$(BIN)/python -m benchmarks http

# At a million: `civic audit verify` of a 1,000,000-event export (with the 100,000 figure beside
# it, to compare peak memory), the tally of a box of a million sealed ballots (minutes), then the
# budget vote at a million ballots cast one by one (hours on a small machine). Not run in CI.
bench-large: install-test
	BENCH_AUDIT_EVENTS=1000000 $(BIN)/python -m benchmarks audit
	BENCH_TALLY_BALLOTS=1000000 $(BIN)/python -m benchmarks tally
	BENCH_BUDGET_BALLOTS=1000000 $(BIN)/python -m benchmarks budget

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Translations: extract the strings to translate and update every catalogue's .po files
# (core/web/locale and each plugin's locale/); translators edit the .po files.
messages: install-test
	for dir in core/web $(wildcard plugins/*); do \
	  [ -d $$dir/locale ] || continue; \
	  src=$$dir; [ $$dir = core/web ] && src="core/web core/http.py"; \
	  $(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext -k N_ --no-location --omit-header -o $$dir/locale/messages.pot $$src; \
	  for lang in ko en; do \
	    $(BIN)/pybabel update -i $$dir/locale/messages.pot -d $$dir/locale -l $$lang --no-fuzzy-matching; \
	  done; \
	done
