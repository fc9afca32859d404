SHELL := /bin/bash
# The two commands of the README: `make run` and `make test`. Both create .venv and
# install the locked, hashed dependencies on first use, so a fresh machine needs only
# Python 3.11+. `make run` installs only what the server needs (requirements/runtime.txt);
# the development targets add requirements/dev.txt (pytest, ruff, ...) on top.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP     := $(VENV)/.dev-installed

.PHONY: run test lint format bench demo lock system-deps image image-test clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements/runtime.txt | $(BIN)/python
	$(PIP) -r requirements/runtime.txt
	@touch $(RUNTIME_STAMP)

$(DEV_STAMP): requirements/runtime.txt requirements/dev.txt | $(BIN)/python
	$(PIP) -r requirements/runtime.txt -r requirements/dev.txt
	@touch $(RUNTIME_STAMP) $(DEV_STAMP)

## run: the bot and its reminder scheduler (local terminal chat without TELEGRAM_BOT_TOKEN)
run: $(RUNTIME_STAMP)
	$(BIN)/python -m bot run

## test: the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set); the kill and
## fuzz tests of tests/reliability run on their own afterwards, on an otherwise idle machine
## (both parts always run; the target fails if either failed)
test: $(DEV_STAMP)
	@status=0; \
	$(BIN)/python -m pytest -n auto --ignore=tests/reliability || status=1; \
	$(BIN)/python -m pytest tests/reliability || status=1; \
	exit $$status

## lint: ruff lint and format check, and mypy (strict for data/ and bot/flow/; pyproject.toml)
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## demo: documents from a realistic sample round into out/
demo: $(DEV_STAMP)
	$(BIN)/python -m docgen --demo --out out

## bench: every benchmark under bench/, then every missed target (lines "MISSED …") at the end
bench: $(DEV_STAMP)
	@mkdir -p var; : > var/bench.log; status=0; \
	for script in bench/*_bench.py; do \
		echo "== $$script" | tee -a var/bench.log; \
		$(BIN)/python $$script 2>&1 | tee -a var/bench.log; \
		[ $${PIPESTATUS[0]} -eq 0 ] || { echo "FAILED $$script" | tee -a var/bench.log; status=1; }; \
	done; \
	echo "== missed targets"; grep -E "^(MISSED|FAILED) " var/bench.log || echo "none"; exit $$status

## lock: re-resolve both lock files after editing requirements/*.in (keeps current pins)
lock: $(DEV_STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-find-links --no-emit-index-url -o requirements/runtime.txt requirements/runtime.in
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-find-links --no-emit-index-url -o requirements/dev.txt requirements/dev.in

## system-deps: LibreOffice and poppler for the document checks, the PostgreSQL client
## (pg_dump, psql) for the backup tests and .ci/run, Chromium for the Mini App's browser
## tests (Debian, as root)
system-deps:
	@if command -v soffice >/dev/null && command -v pdftoppm >/dev/null && command -v psql >/dev/null \
		&& command -v chromium >/dev/null; then \
		echo "LibreOffice, poppler, the PostgreSQL client and Chromium are installed"; \
	else \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui \
			libreoffice-impress-nogui poppler-utils fonts-dejavu-core postgresql-client chromium; \
	fi

## image: the container image (Containerfile) with podman, tagged $(IMAGE). No registry here:
## IMAGE_BASE=localhost/mittaribotti-base:bookworm after `make image-base` (debootstrap)
IMAGE      ?= localhost/mittaribotti:test
IMAGE_BASE ?= docker.io/library/python:3.11-slim-bookworm
RELEASE    ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
image:
	podman build --isolation=chroot --network=host \
		--volume /etc/ssl/certs:/etc/ssl/host-certs:ro \
		--build-arg PIP_CERT=/etc/ssl/host-certs/ca-certificates.crt \
		--build-arg BASE=$(IMAGE_BASE) --build-arg RELEASE=$(RELEASE) -t $(IMAGE) -f Containerfile .

## image-base: a Debian 12 base with python3 made locally (debootstrap), for machines without
## a registry (Debian, as root: apt-get install podman debootstrap)
image-base:
	rm -rf var/image-rootfs && mkdir -p var
	debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
		bookworm var/image-rootfs http://deb.debian.org/debian
	rm -rf var/image-rootfs/var/cache/apt/archives/*.deb var/image-rootfs/var/lib/apt/lists/*
	tar -C var/image-rootfs -c . | podman import --change 'CMD ["/bin/bash"]' - localhost/mittaribotti-base:bookworm
	rm -rf var/image-rootfs

## image-test: run the image (as an arbitrary uid) against TEST_DATABASE_URL's PostgreSQL
image-test: $(DEV_STAMP)
	MITTARIBOTTI_IMAGE_TEST=1 MITTARIBOTTI_IMAGE=$(IMAGE) $(BIN)/python -m pytest -s tests/test_container_image.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
