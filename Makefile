# The two commands: `make test` and `make demo`. Both set up everything on a fresh clone.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
# The rules Lambda's runtime Python (stacks/lambda_runtime.py): its tests also run on it.
LAMBDA_PYTHON := 3.13
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup test test-lambda unit integration demo synth bench lint clean local-up local-down

# The Python and npm installs of a fresh clone run side by side (about 7 s saved); then Debian's
# chromium for the report's browser test, when missing (scripts/ensure_chromium.sh).
setup:
	@$(MAKE) --silent --no-print-directory --jobs=2 $(STAMP) $(NPM_STAMP)
	@scripts/ensure_chromium.sh

# uv (pinned) installs the pinned requirements in about 30 s on a fresh clone, pip in about 150 s
# (measured on this project's 2-core machine). uv reads no pip.conf: behind a private index set
# UV_DEFAULT_INDEX (README "The two commands"). uv itself is pinned and kept once per machine
# outside the clone by scripts/uv.sh (which says why) and creates the venv; pip is installed into
# it, pinned, for the Lambda bundles (stacks/assets.py) and the wheelhouse.
PIP_VERSION := 23.2.1
CACHE_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/aml-platform
# The pins PyPI publishes only as sdists are built once per machine into a wheelhouse outside the
# clone (scripts/wheelhouse.sh says why): a fresh clone's install then takes about 5 s, not 31 s.
SDIST_ONLY := pyspark localstack-client
WHEELHOUSE ?= $(CACHE_DIR)/wheelhouse

$(STAMP): requirements.txt pyproject.toml
	@py=$$(scripts/check_toolchain.sh) || exit 1; \
	uv=$$(scripts/uv.sh $$py) || exit 1; \
	install="$$uv pip install --quiet --python $(BIN)/python"; \
	{ [ -x $(BIN)/python ] || $$uv venv --quiet --python $$py $(VENV); } && \
	$$install pip==$(PIP_VERSION) && \
	scripts/wheelhouse.sh $(WHEELHOUSE) $(BIN)/python $(SDIST_ONLY) && \
	$$install --find-links $(WHEELHOUSE) -r requirements.txt && \
	$$install --no-deps -e .
	@touch $@

# --prefer-offline: the lock file pins every package and its integrity hash, so npm's cache serves
# them without asking the registry again (about 4 s of a fresh clone's 11 s here).
$(NPM_STAMP): package.json package-lock.json
	@scripts/check_toolchain.sh >/dev/null || exit 1
	npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	@touch $@

# One test process per core (pytest-xdist); the files that share an expensive fixture form one unit
# of work (tests/conftest.py), taken in collection order, the long end-to-end ones first.
# TEST_WORKERS=0 runs the suite in one process. The Lambda's tests on its own Python run beside it
# (their output follows the suite's).
TEST_WORKERS ?= auto
LAMBDA_TEST_LOG := .local/lambda-tests.log
test: setup
	$(BIN)/ruff check .
	@mkdir -p .local; scripts/lambda_tests.sh $(LAMBDA_PYTHON) > $(LAMBDA_TEST_LOG) 2>&1 & lambda=$$!; \
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder; suite=$$?; \
	wait $$lambda; lambda_status=$$?; cat $(LAMBDA_TEST_LOG); \
	[ $$suite -eq 0 ] && [ $$lambda_status -eq 0 ]

test-lambda:
	scripts/lambda_tests.sh $(LAMBDA_PYTHON)

unit: setup
	$(BIN)/pytest tests/unit

integration: setup
	$(BIN)/pytest tests/integration

demo: setup
	$(BIN)/aml demo

synth: setup
	$(BIN)/aml synth

bench: setup
	$(BIN)/python -m aml.bench

# Style, the layer rules (import-linter, pyproject.toml) and pylint's duplicate-code check over
# every part (about a minute of CPU, so `make test` leaves it to this target).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/pylint --disable=all --enable=duplicate-code aml aml_contract aml_report glue_jobs lambdas stacks app.py

local-up: setup
	$(BIN)/aml local up

local-down: setup
	$(BIN)/aml local down

clean:
	-$(BIN)/aml local down
	rm -rf cdk.out .local out .pytest_cache
