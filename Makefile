# The two commands of the README: `make run` and `make test`. Each creates .venv when missing,
# installs the project into it (and any Debian package it needs), then runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DB     ?= data/instrument.db
DEMO_DB ?= data/demo.db
PORT   ?= 8501

# Debian packages: WeasyPrint's libraries and a font (reports), poppler (PDF checks in tests),
# Chromium (browser tests).
RUN_DEBS  := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_DEBS := $(RUN_DEBS) poppler-utils chromium

.PHONY: run test lint unit bench demo install debs-run debs-test schema clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

debs-run:
	$(call apt_install,$(RUN_DEBS))

debs-test:
	$(call apt_install,$(TEST_DEBS))

# The web app (server.py adds the sign-in routes to app.py). The first start on an empty database
# prints the `admin` password once. `make demo` uses its own database with the worked cases.
run: $(STAMP) debs-run
	INSTRUMENT_DB="$${INSTRUMENT_DB:-$(DB)}" $(BIN)/streamlit run server.py --server.port $(PORT)

demo: $(STAMP) debs-run
	INSTRUMENT_DB="$(DEMO_DB)" INSTRUMENT_DEMO=1 $(BIN)/streamlit run server.py --server.port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check instrument tests benchmarks app.py server.py
	$(BIN)/ruff format --check instrument tests benchmarks app.py server.py
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP) debs-test
	$(BIN)/pytest -q

test: $(STAMP) debs-test lint
	$(BIN)/pytest -q

bench: $(STAMP) debs-run
	$(BIN)/python -m benchmarks

schema: $(STAMP)
	$(BIN)/instrument schema --write

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
