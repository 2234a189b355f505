# Every target creates or refreshes the virtual environment it needs, so a fresh clone works.
# Python 3.11 is expected as `python3` (override with `make PYTHON=python3.11 …`).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The SAM CLI pins its own dependencies, so it lives in its own environment.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# Where the names data set is (see data/README.md); CI and this machine use the shared copy.
NAMEORIGIN_DATA_DIR ?= ../shared/data/names
export NAMEORIGIN_DATA_DIR
# The Knative Service CRD the manifest tests validate against (kept outside the repository).
KNATIVE_SERVICE_CRD ?= $(CURDIR)/../shared/schemas/knative-serving-v1-service-crd.yaml
# `make serve`: a runtime-only environment (no torch, no test tools) and where it listens.
SERVE_VENV := .venv-serve
SERVE_PORT ?= 8080
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help venv sam-venv test lint format clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[http,train,dev,cli,pipeline]'
	touch $@

venv: $(BIN)/.installed ## Create/refresh the development environment (.venv)

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet 'aws-sam-cli==1.170.0'
	touch $@

sam-venv: $(SAM_VENV)/.installed ## Create the SAM CLI environment (.venv-sam)

test: export KNATIVE_SERVICE_CRD := $(KNATIVE_SERVICE_CRD)
test: venv sam-venv ## Run the test suite (what CI runs; `make sam-local-test`: the samlocal tests)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

$(SERVE_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install --quiet --upgrade pip
	$(SERVE_VENV)/bin/pip install --quiet -e '.[http]'
	touch $@

.PHONY: serve
serve: $(SERVE_VENV)/.installed ## Serve the API on http://127.0.0.1:8080 with the committed model
	NAMEORIGIN_HTTP_HOST=127.0.0.1 PORT=$(SERVE_PORT) $(SERVE_VENV)/bin/python -m nameorigin.server

# -- Benchmarks (docs/performance.md): NOT in CI (minutes, and figures need a quiet machine) -----
BENCH_ARGS ?=

.PHONY: bench bench-report
bench: venv .aws-sam/build/template.yaml ## Every benchmark + baselines in one run: benchmarks/results/<date>-<model>.json, plots, docs
	@command -v hey >/dev/null || { echo "bench needs hey (apt-get install hey)"; exit 1; }
	$(BIN)/pip install --quiet -e '.[bench]'
	LAMBDA_PYTHON=$(LAMBDA_PYTHON) $(BIN)/python benchmarks/suite.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/report.py

bench-report: venv ## Regenerate the README/docs figures from the newest benchmarks/results file
	$(BIN)/python benchmarks/report.py

.PHONY: image-test
image-test: venv ## Build the Knative image with podman; run the `image` tests against it
	bash k8s-knative/image-test.sh

# `make train FORCE=1` promotes even a worse model; TRAIN_ARGS passes options (python -m training -h).
FORCE ?=
TRAIN_ARGS ?=

.PHONY: data train evaluate experiments
data: venv ## Download the names data set into data/names/ and verify its sha256 sums
	$(BIN)/python -m training.fetch_data --into data/names

train: venv ## Data check → split → train → calibrate → export → parity → evaluate → promote (FORCE=1)
	$(BIN)/python -m training $(if $(FORCE),--force) $(TRAIN_ARGS)

evaluate: venv ## Re-score the committed model, baselines and ethnicseer; rewrite metrics.json + docs
	$(BIN)/python -m training evaluate

experiments: venv ## Train each modelling lever on the same split (~30 min); docs/experiments.json
	$(BIN)/python -m training.experiments $(NAMEORIGIN_DATA_DIR)
	$(BIN)/python -m training.report

# -- The training pipeline on Kubeflow Pipelines (docs/kubeflow.md) ----------------------------
# `make pipeline-local`: the compiled graph with kfp's local runner, every component a subprocess
# of this venv; compares with artifacts/ like `make train` but publishes to .cache/pipeline/store
# (artifacts/ is never written). PIPELINE_CONFIG: TrainingConfig overrides as JSON;
# PIPELINE_ARGS: more options (python -m training.kubeflow.local -h). CI runs the small config.
PIPELINE_CONFIG ?= {}
PIPELINE_ARGS ?=
PIPELINE_SMALL_CONFIG := {"epochs": 1, "embedding_dim": 8, "hidden_size": 16, "ngram_buckets": 4096, "patience": 0, "extra_sources": false}
PIPELINE_IMAGE ?= ghcr.io/nameorigin/nameorigin-training:0.1.0

.PHONY: pipeline-local pipeline-local-small pipeline-image
pipeline-local: venv ## Data check → … → gate → publish with kfp's local runner (FORCE=1, PIPELINE_CONFIG=json)
	$(BIN)/python -m training.kubeflow.local $(if $(FORCE),--force) --config '$(PIPELINE_CONFIG)' $(PIPELINE_ARGS)

pipeline-local-small: venv ## pipeline-local with a small model (CI): a tiny candidate must be refused
	$(BIN)/python -m training.kubeflow.local --config '$(PIPELINE_SMALL_CONFIG)' --expect refused $(PIPELINE_ARGS)

pipeline-image: ## Build the pipeline's component image with podman (training/kubeflow/Dockerfile)
	podman build -f training/kubeflow/Dockerfile \
		--ignorefile training/kubeflow/Dockerfile.dockerignore -t $(PIPELINE_IMAGE) .

# -- API Gateway function (SAM): validate, build, local invoke, OpenAPI ------------------------
SAM_ENV := AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0
# The Lambda runtime's Python (template.yaml: python3.12); `make invoke` runs the built package
# under it. pyenv machines have it under ~/.pyenv/versions; override with LAMBDA_PYTHON=...
LAMBDA_PYTHON ?= $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12)),python3.12)
RIE := $(SAM_VENV)/lib/python3.11/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64
RIC_DIR := build/lambda-ric-py3.12
EVENT ?= events/api/get_prediction.json

.PHONY: sam-validate sam-build invoke generate
sam-validate: venv sam-venv ## sam validate --lint and cfn-lint on template.yaml (offline)
	$(SAM_ENV) $(SAM) validate --lint -t template.yaml
	$(BIN)/cfn-lint template.yaml

sam-build: sam-venv ## sam build (no Docker): package + bundled model in .aws-sam/build
	$(SAM_ENV) $(SAM) build -t template.yaml

# What `make invoke` needs built; rebuilt only when something that goes into the package changed.
BUILD_INPUTS := template.yaml functions/Makefile $(LOCK_LAMBDA) artifacts/model.onnx \
	artifacts/manifest.json $(shell find functions/nameorigin -name '*.py' 2>/dev/null)
.aws-sam/build/template.yaml: $(BUILD_INPUTS) | sam-venv
	$(SAM_ENV) $(SAM) build -t template.yaml

$(RIC_DIR)/.installed:
	$(LAMBDA_PYTHON) -m pip install --quiet --disable-pip-version-check --target $(RIC_DIR) 'awslambdaric==4.2.2'
	touch $@

.PHONY: lambda-ric
lambda-ric: $(RIC_DIR)/.installed ## awslambdaric for the Lambda runtime's Python (make invoke, tests)

print-%: ## Print a make variable (tests ask for LAMBDA_PYTHON)
	@echo '$($*)'

invoke: venv .aws-sam/build/template.yaml $(RIC_DIR)/.installed ## Run EVENT=events/api/x.json through the built function (Lambda RIE)
	$(BIN)/python events/invoke.py $(EVENT) --rie $(RIE) --python $(LAMBDA_PYTHON) --ric-dir $(RIC_DIR)

generate: venv ## Rewrite every generated file: docs/openapi.json, JSON Schemas, the Kubeflow pipeline
	$(BIN)/python -m nameorigin.tooling.generate
	$(BIN)/python -m training.schema artifacts
	$(BIN)/python -m training.kubeflow.graph

# -- Supply chain (docs/reliability.md): hashed lock files, pip-audit, CycloneDX SBOMs ------------
# The locks pin every runtime distribution, indirect ones too, with the sha256 of every file PyPI
# has for it (one universal lock serves the Lambda's Python 3.12 and the image's 3.11).
LOCK_LAMBDA := functions/requirements.txt
LOCK_IMAGE := k8s-knative/requirements.txt
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet --custom-compile-command 'make lock'
SBOM_DIR := build/sbom

.PHONY: lock audit sbom
lock: venv ## Re-resolve the hashed lock files from pyproject.toml (Lambda package, container image)
	$(UV_COMPILE) --output-file $(LOCK_LAMBDA)
	$(UV_COMPILE) --extra http --output-file $(LOCK_IMAGE)

audit: venv ## pip-audit over the lock files (says plainly what it could not audit)
	$(BIN)/python .ci/audit.py $(LOCK_LAMBDA) $(LOCK_IMAGE)

sbom: venv ## CycloneDX SBOMs of the Lambda package and the image (build/sbom/*.cdx.json)
	@mkdir -p $(SBOM_DIR)
	$(BIN)/cyclonedx-py requirements --pyproject pyproject.toml --output-reproducible \
		--output-file $(SBOM_DIR)/lambda.cdx.json $(LOCK_LAMBDA)
	$(BIN)/cyclonedx-py requirements --pyproject pyproject.toml --output-reproducible \
		--output-file $(SBOM_DIR)/image.cdx.json $(LOCK_IMAGE)

lint: venv ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy k8s-knative/bake_model.py tests/support sam-local/batch_invoke.py

format: venv ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove build outputs (keeps the environments)
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache

# --- Batch mode on a local queue (docs/batch.md) -------------------------------------------------
# moto in server mode on 127.0.0.1, the queue/DLQ/bucket of template.yaml, and the local poller that
# plays Lambda's SQS event source mapping; both run in the background (pids, logs: .cache/queue/).
# BATCH_VISIBILITY=10 shortens the template's 5700 s visibility timeout to watch retries and the DLQ.
BATCH_PORT ?= 5123
BATCH_VISIBILITY ?=
BATCH_STATE := .cache/queue
BATCH_ENDPOINT := http://127.0.0.1:$(BATCH_PORT)
BATCH_ENV := AWS_ENDPOINT_URL=$(BATCH_ENDPOINT) AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	AWS_DEFAULT_REGION=us-east-1 NAMEORIGIN_BATCH_QUEUE=nameorigin-batch \
	NAMEORIGIN_BATCH_DLQ=nameorigin-batch-dlq \
	NAMEORIGIN_RESULTS_BUCKET=nameorigin-results-123456789012-us-east-1 \
	POWERTOOLS_SERVICE_NAME=nameorigin POWERTOOLS_METRICS_NAMESPACE=NameOrigin \
	POWERTOOLS_TRACE_DISABLED=true
BATCH_CLI := $(BATCH_ENV) $(BIN)/nameorigin-batch

.PHONY: queue-up queue-down submit results dlq dlq-redrive
queue-up: venv ## Start the local queue: moto + queue/DLQ/bucket + poller, in the background
	@mkdir -p $(BATCH_STATE)
	@if [ -f $(BATCH_STATE)/moto.pid ] && kill -0 "$$(cat $(BATCH_STATE)/moto.pid)" 2>/dev/null; then \
		echo "the local queue is already up (make queue-down stops it)"; exit 1; fi
	$(BIN)/moto_server -H 127.0.0.1 -p $(BATCH_PORT) > $(BATCH_STATE)/moto.log 2>&1 & echo $$! > $(BATCH_STATE)/moto.pid
	$(BATCH_CLI) local-up --endpoint-url $(BATCH_ENDPOINT) $(if $(BATCH_VISIBILITY),--visibility-timeout $(BATCH_VISIBILITY))
	$(BATCH_CLI) poll > $(BATCH_STATE)/poller.log 2>&1 & echo $$! > $(BATCH_STATE)/poller.pid
	@echo "local queue up on $(BATCH_ENDPOINT); poller log: $(BATCH_STATE)/poller.log"

queue-down: ## Stop the local poller and moto server started by queue-up
	@for name in poller moto; do \
		if [ -f $(BATCH_STATE)/$$name.pid ]; then kill "$$(cat $(BATCH_STATE)/$$name.pid)" 2>/dev/null || true; \
		rm -f $(BATCH_STATE)/$$name.pid; echo "stopped $$name"; fi; done

submit: venv ## Submit a names file to the local queue as one job: make submit FILE=names.txt (prints the job id)
	@test -n "$(FILE)" || { echo "usage: make submit FILE=names.txt|.csv|.jsonl"; exit 1; }
	@$(BATCH_CLI) submit $(FILE)

# BATCH_ID= (plain batch ids, as before jobs) still works.
results: venv ## Wait for a job's batches, write one file in input order: make results JOB_ID=<id> [OUT=results.jsonl]
	@test -n "$(or $(JOB_ID),$(BATCH_ID))" || { echo "usage: make results JOB_ID=<id printed by submit> [OUT=results.jsonl]"; exit 1; }
	@$(BATCH_CLI) results $(or $(JOB_ID),$(BATCH_ID)) $(if $(OUT),--output $(OUT))

dlq: venv ## List the local dead-letter queue, with why each message failed
	@$(BATCH_CLI) dlq list

dlq-redrive: venv ## Move every local dead letter back to the queue
	@$(BATCH_CLI) dlq redrive

# --- The real `sam local` on a container engine, no Docker daemon (docs/sam-local.md) ----------
# sam-local/sam.sh starts podman's Docker-compatible API for each command (unless DOCKER_HOST is
# set); sam-local/base-image.sh makes the offline stand-in for the Lambda python3.12 base image
# under the public image's name, hence --skip-pull-image. With Docker and the real image:
# `make sam-local-invoke SAM_LOCAL_IMAGE= SAM_LOCAL_FLAGS=` (sam pulls public.ecr.aws/lambda/python).
FUNCTION ?= ApiFunction
SAM_LOCAL_PORT ?= 3000
SAM_LOCAL_FLAGS ?= --skip-pull-image
SAM_LOCAL_IMAGE ?= sam-local-image
SQS_EVENT := $(if $(filter command line,$(origin EVENT)),$(EVENT),events/sqs/inline-batch.json)
# moto (S3 only) for the Lambda runtime's Python: the moto server `make sam-local-batch` runs in a
# container beside the function's.
MOTO_DIR := build/moto-py3.12

.PHONY: sam-local-image sam-local-invoke sam-local-api sam-local-batch sam-local-test
sam-local-image: sam-venv $(RIC_DIR)/.installed ## Stand-in Lambda python3.12 image for podman (cached; apt-installs podman)
	@LAMBDA_PYTHON=$(LAMBDA_PYTHON) RIC_DIR=$(RIC_DIR) RIE=$(RIE) bash sam-local/base-image.sh

$(MOTO_DIR)/.installed:
	$(LAMBDA_PYTHON) -m pip install --quiet --disable-pip-version-check --target $(MOTO_DIR) \
		'moto[s3]==5.2.5' 'flask==3.1.3' 'flask-cors==6.0.5'
	touch $@

# (sam build's output goes to stderr: stdout is the function's JSON result alone.)
sam-local-invoke: $(SAM_LOCAL_IMAGE) ## sam local invoke FUNCTION=ApiFunction EVENT=events/api/x.json (prints the JSON result)
	@$(MAKE) --no-print-directory .aws-sam/build/template.yaml >&2
	@bash sam-local/sam.sh local invoke $(FUNCTION) --event $(EVENT) $(SAM_LOCAL_FLAGS)

sam-local-api: .aws-sam/build/template.yaml $(SAM_LOCAL_IMAGE) ## sam local start-api on http://127.0.0.1:3000 (SAM_LOCAL_PORT; Ctrl-C stops it)
	bash sam-local/sam.sh local start-api --host 127.0.0.1 --port $(SAM_LOCAL_PORT) \
		--warm-containers LAZY $(SAM_LOCAL_FLAGS)

sam-local-batch: venv $(SAM_LOCAL_IMAGE) $(MOTO_DIR)/.installed ## sam local invoke BatchFunction EVENT=events/sqs/x.json on local moto [CLAIM_CHECK=names.txt]
	@$(MAKE) --no-print-directory .aws-sam/build/template.yaml >&2
	@$(BIN)/python sam-local/batch_invoke.py $(SQS_EVENT) --moto-dir $(MOTO_DIR) \
		$(if $(CLAIM_CHECK),--claim-check $(CLAIM_CHECK)) $(addprefix --sam-arg=,$(SAM_LOCAL_FLAGS))

sam-local-test: venv sam-venv sam-local-image $(MOTO_DIR)/.installed ## The samlocal tests: sam local invoke/start-api answers = the handlers' in process
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m samlocal
