# billing-warehouse. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin
DEMO_DB   ?= billing_warehouse_demo
PG        := scripts/pg.sh
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/billing-warehouse/billing-warehouse/internal/version.version=$(VERSION) \
             -X github.com/billing-warehouse/billing-warehouse/internal/version.commit=$(COMMIT)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the binaries into bin/
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

.PHONY: test
test: ## run every test against a real PostgreSQL (found or started by scripts/pg.sh) and headless Chromium
	$(PG) binaries
	scripts/chromium.sh >/dev/null
	$(PG) with TEST_DATABASE_URL -- $(GO) test -count=1 -timeout 20m ./...
	@echo "the system scenarios again, with the Citus-compatible write path forced"
	$(PG) with TEST_DATABASE_URL -- env TEST_WRITE_PATH=citus $(GO) test -count=1 -timeout 20m \
		-run '^(TestBackfillMatchesModel|TestFaultsConverge|TestIdenticalRerunWritesNothing|TestReprocess)$$' ./ingest/hyperstack

.PHONY: lint
lint: ## gofmt must have nothing to say; go vet must pass
	@out=$$(gofmt -l . | grep -v '^vendor/' || true); if [[ -n $$out ]]; then echo "gofmt wants to rewrite:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: migrate
migrate: build ## apply migrations to DATABASE_URL (default: a local demo database)
	$(PG) with DATABASE_URL $(DEMO_DB) -- $(BIN)/migrate --create-database up

.PHONY: demo
demo: build ## find or start PostgreSQL, migrate, backfill the simulated billing API, show the result
	@$(PG) with DATABASE_URL $(DEMO_DB) -- scripts/demo.sh

.PHONY: bench
bench: ## run the benchmarks (not in CI; about 15 minutes); results in bench/results/*.json
	$(PG) with TEST_DATABASE_URL -- $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/hyperstacksim ./store
	$(PG) with TEST_DATABASE_URL -- $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m -v ./bench

.PHONY: screenshot
screenshot: build ## backfill the simulator into a database of its own and photograph the dashboard into docs/dashboard.png
	$(PG) with DATABASE_URL billing_warehouse_screenshot -- scripts/screenshot.sh

.PHONY: pg-stop
pg-stop: ## stop the throwaway PostgreSQL cluster scripts/pg.sh may have started
	$(PG) stop

.PHONY: clean
clean: ## remove build output
	rm -rf $(BIN)
