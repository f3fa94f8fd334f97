# kubeshift.cilium — the single entry point. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ENV := . tests/utils/env.sh &&
CILIUM_VERSION ?= 1.18.12
REPORT_DIR ?= $(CURDIR)/reports/preflight
INVENTORY ?= localhost,
PREFLIGHT_ARGS ?=

.PHONY: help preflight deps deps-run test static sanity units lint build integration molecule bench \
        lab-build lab-up lab-down lab-test host-snapshot-before host-snapshot-after

help: ## List targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 24

preflight: deps-run ## Install the runtime tools and run the preflight (localhost by default), printing the report
	$(ENV) ansible-playbook playbooks/preflight.yml -i '$(INVENTORY)' $(if $(findstring localhost,$(INVENTORY)),-c local,) \
	  -e cilium_version=$(CILIUM_VERSION) -e preflight_report_dir='$(REPORT_DIR)' $(PREFLIGHT_ARGS)

deps-run:
	tests/utils/bootstrap.sh run

deps: ## Install everything the tests need (Debian packages, pinned venv, helm/kubectl, ansible-test stand-in)
	tests/utils/bootstrap.sh test

test: deps ## Install and run every test (what CI runs)
	tests/utils/run-all.sh

static: sanity units lint build ## Fast checks: ansible-test sanity + units, ansible-lint, build/install

sanity: ## ansible-test sanity
	$(ENV) tests/utils/ansible-test.sh sanity

units: ## ansible-test units
	$(ENV) tests/utils/ansible-test.sh units

lint: ## ansible-lint --profile production, yamllint, shellcheck
	$(ENV) tests/utils/lint.sh

build: ## ansible-galaxy collection build + install into a scratch path; ansible-builder create
	$(ENV) tests/utils/build.sh

integration: ## pytest integration tests (namespace nodes, real iptables/nft, headless Chromium)
	$(ENV) python -m pytest -q -p no:cacheprovider tests/integration

molecule: ## All molecule scenarios (namespace nodes)
	$(ENV) tests/utils/molecule.sh

bench: ## Benchmarks; each prints a BENCH line
	$(ENV) tests/bench/run.sh

lab-build: ## Build kube-apiserver, etcd, controllers, kube-proxy, flanneld from Go modules (cached)
	$(ENV) tests/lab/lab.sh build

lab-up: ## Start the Kubernetes test lab; prints LAB_KUBECONFIG, LAB_INVENTORY, LAB_BIN
	$(ENV) tests/lab/lab.sh up

lab-down: ## Tear the lab down
	$(ENV) tests/lab/lab.sh down

lab-test: ## Lab smoke test and lab-based scenarios
	$(ENV) tests/lab/lab.sh test
