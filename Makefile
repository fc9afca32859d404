# The two commands of the README: `make run` and `make test`. Both create .venv and
# install the locked dependencies on first use, so a fresh machine needs only Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench demo system-deps clean

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $(STAMP)

## run: the bot and its reminder scheduler (local terminal chat without TELEGRAM_BOT_TOKEN)
run: $(STAMP)
	$(BIN)/python -m bot run

## test: the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff lint and format check
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## demo: documents from a realistic sample round into out/
demo: $(STAMP)
	$(BIN)/python -m docgen --demo --out out

## bench: the benchmarks under bench/
bench: $(STAMP)
	@for script in bench/*_bench.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## system-deps: LibreOffice and poppler for the document checks (Debian, as root)
system-deps:
	@if command -v soffice >/dev/null && command -v pdftoppm >/dev/null; then \
		echo "LibreOffice and poppler are installed"; \
	else \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui \
			libreoffice-impress-nogui poppler-utils fonts-dejavu-core; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
