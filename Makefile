# Parley: the two commands of README.md, and a few helpers.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

demo: ## Run Parley with its own PostgreSQL and a demo tenant (installs PostgreSQL if missing)
	scripts/install-deps.sh
	cargo run --bin parley -- demo

test: ## Run every test against a real PostgreSQL and headless Chromium (installs them if missing)
	scripts/install-deps.sh --test
	@if cargo nextest --version >/dev/null 2>&1; then \
	  cargo nextest run --workspace --all-targets --no-fail-fast; status=$$?; \
	else \
	  cargo test --workspace --all-targets --no-fail-fast; status=$$?; \
	fi; \
	scripts/stop-test-db.sh; exit $$status

schema: ## Regenerate src/db/schema.rs from the migrations (needs diesel_cli; run the tests once first)
	scripts/print-schema.sh

lint: ## Formatting and clippy, as CI runs them
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

.PHONY: help demo test schema lint
