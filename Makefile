# Every entry point a person needs. Targets call the tools directly; read them to see what runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UV_VERSION := 0.13.9
# Python keeps the bytecode it compiles: with PYTHONDONTWRITEBYTECODE set (some shells and images
# set it), every process compiles pandas, scikit-learn and the rest from source again (measured
# here: `import pandas` 3.7 s -> 1.4 s, a CLI call's start ~5 s -> ~2 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup lock browser test test-e2e lint format demo bench check-infra deploy-local clean

# Every version comes from uv.lock (the images install from it too); --locked fails if the lock
# no longer matches pyproject.toml. uv itself is the one tool installed by pip, pinned here.
$(STAMP): pyproject.toml uv.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv sync --quiet --locked --inexact --extra dev --python $(BIN)/python
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install the project with its dev extras, as locked (idempotent)

lock: ## after changing dependencies in pyproject.toml: re-resolve uv.lock (then commit both)
	$(BIN)/uv lock

# Debian's Chromium for the page's browser test (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium is missing and cannot be installed here: the browser test will be skipped"

test: setup browser ## the fast suite (every test not marked slow), on two workers
	$(BIN)/pytest -n 2 --dist loadfile -m "not slow"

# The whole loop run end to end (the demo, the README's path, the training container's seed):
# minutes each, so CI runs them (.ci/run) and `make test` stays fast feedback.
test-e2e: setup
	$(BIN)/pytest -n 2 --dist loadfile -m slow --durations=10

lint: setup ## ruff, formatting, mypy --strict on every package, the lock and the pre-commit config
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/uv lock --check
	$(BIN)/pre-commit validate-config

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: setup ## the whole loop on real flights, offline, on ./.flightdelay/
	$(BIN)/flightdelay demo

# --- infrastructure, Dockerfiles and workflows, checked offline -------------------------------
# Where a local provider mirror exists (these build machines), Terraform installs from it through
# the repository's CLI configuration; elsewhere it uses its registry as usual.
TF_ENV   := $(if $(wildcard /opt/tf-plugins),TF_CLI_CONFIG_FILE=$(CURDIR)/infra/terraform.rc)
TF_DIRS  := $(sort $(wildcard infra/modules/*)) infra/envs/account infra/envs/dev infra/envs/prod
CHECKOV  := .venv-checkov/bin/checkov
DOCKERFILES := Dockerfile

# checkov pins an old boto3, so it lives in a virtual environment of its own (installed by uv:
# pip took minutes to resolve it on a fresh machine).
$(CHECKOV): $(STAMP)
	$(BIN)/uv venv --quiet --allow-existing .venv-checkov --python $(BIN)/python
	$(BIN)/uv pip install --quiet --python .venv-checkov/bin/python 'checkov==3.3.30'

check-infra: setup $(CHECKOV) ## terraform fmt/validate/test, checkov, hadolint, zizmor, workflow rules
	@if command -v terraform >/dev/null; then \
		$(TF_ENV) terraform fmt -check -recursive infra && \
		for dir in $(TF_DIRS); do \
			echo "== $$dir"; \
			(cd $$dir && $(TF_ENV) terraform init -backend=false -input=false -no-color >/dev/null && \
				$(TF_ENV) terraform validate -no-color && $(TF_ENV) terraform test -no-color) || exit 1; \
		done; \
	else echo "terraform is not installed: fmt, validate and test skipped (https://developer.hashicorp.com/terraform/install)"; fi
	BC_SKIP_MAPPING=TRUE $(CHECKOV) --quiet --compact --skip-download -d infra --framework terraform
	BC_SKIP_MAPPING=TRUE $(CHECKOV) --quiet --compact --skip-download -d .github/workflows --framework github_actions
	BC_SKIP_MAPPING=TRUE $(CHECKOV) --quiet --compact --skip-download --framework dockerfile $(addprefix -f ,$(DOCKERFILES))
	$(BIN)/hadolint $(DOCKERFILES)
	$(BIN)/zizmor --offline .github/workflows
	$(BIN)/pytest -q tests/infra

# Apply infra/ to a local AWS (moto, IAM enforced) and run the loop there, each stage with its own
# task role; then plan (no changes), prod beside dev, destroy (nothing left). See infra/README.md.
deploy-local: setup
	@command -v terraform >/dev/null || { echo "deploy-local needs terraform (https://developer.hashicorp.com/terraform/install)"; exit 2; }
	$(BIN)/python infra/local/deploy_local.py

clean: ## remove the local stores and caches (not the virtual environment)
	rm -rf .flightdelay .deploy-local .pytest_cache .mypy_cache .ruff_cache

# The serving libraries bench.serving_libraries compares with serving.py are no dependencies of the
# project: they live in an environment of their own, on the project's own pins.
BENCH_LIBS := .venv-bench/.installed
$(BENCH_LIBS): $(STAMP)
	$(BIN)/uv venv --quiet --allow-existing .venv-bench --python $(BIN)/python
	$(BIN)/uv export --quiet --frozen --no-hashes --no-emit-project --all-extras > .venv-bench/pins.txt
	$(BIN)/uv pip install --quiet --python .venv-bench/bin/python -r .venv-bench/pins.txt
	$(BIN)/uv pip install --quiet --python .venv-bench/bin/python -c .venv-bench/pins.txt \
		onnxruntime skl2onnx onnxmltools treelite tl2cgen
	echo "$(CURDIR)" > $$(.venv-bench/bin/python -c 'import site; print(site.getsitepackages()[0])')/flightdelay-checkout.pth
	touch $@

bench: setup $(BENCH_LIBS) ## benchmarks; every figure is measured in this run
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench.api
	.venv-bench/bin/python -m bench.serving_libraries
	$(BIN)/python -m bench.fetcher
	$(BIN)/python -m bench.evaluator
	$(BIN)/python -m bench.model_quality
	$(BIN)/python -m bench.train_scale
