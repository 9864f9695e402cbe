# acmock: an emulator of the Activeconnect API. `make help` lists the targets.
GO ?= go

.PHONY: help generate check-generated build test lint run load

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-16s %s\n", $$1, $$2}'

generate: ## regenerate generated/ from api/*.yaml (a generated file no generator writes any more is removed)
	rm -f generated/*/*.gen.go
	$(GO) generate ./generated/...

check-generated: generate ## fail when generated/ is stale (CI runs this)
	@git diff --exit-code -- generated/ || (echo "generated/ is stale: run make generate and commit" && exit 1)
	@test -z "$$(git status --porcelain -- generated/)" || (git status --porcelain -- generated/; echo "generated/ has untracked files: run make generate and commit"; exit 1)

build: ## build the binaries into bin/
	$(GO) build -o bin/ ./cmd/...

# Separate Go modules in the repository (each with a replace to the root); test and lint cover them.
MODULES := examples/webapp

# The crash harness runs on its own with -v, so that its summary line (how many kills and
# acknowledged writes it checked) shows; the rest of its output only when it fails.
CRASH := ^TestCrashLosesNoAcknowledgedWrite$$

test: ## run every test, with the race detector, in this module and in examples/, and the contract tests again signing as IAMPASS clients
	$(GO) test -race -count=1 -skip '$(CRASH)' ./...
	@echo "$(GO) test -race -count=1 -run '$(CRASH)' -v ./cmd/acmock"; \
	out=$$($(GO) test -race -count=1 -run '$(CRASH)' -v ./cmd/acmock 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ]; then echo "$$out"; exit $$rc; fi; \
	echo "$$out" | grep -E 'crash harness:|^ok' | sed 's/^ *crash_test.go:[0-9]*: /    /'
	@for m in $(MODULES); do echo "cd $$m && $(GO) test -race -count=1 ./..."; (cd $$m && $(GO) test -race -count=1 ./...) || exit 1; done
	$(MAKE) --no-print-directory contract-iampass

lint: ## gofmt check and go vet, in this module and in examples/
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || (echo "gofmt would change:"; echo "$$out"; exit 1)
	$(GO) vet ./...
	@for m in $(MODULES); do echo "cd $$m && $(GO) vet ./..."; (cd $$m && $(GO) vet ./...) || exit 1; done

# The recipe execs the binary, so that a signal to make (Ctrl-C, kill) reaches acmock itself:
# `go run` would leave it serving on the port.
run: ## build acmock and acclient into bin/ and run acmock on 127.0.0.1:8080 with the demo application; flags in ARGS, e.g. make run ARGS='--auth off'
	$(GO) build -o bin/ ./cmd/acmock ./cmd/acclient
	exec bin/acmock $(ARGS)

load: ## measure throughput, latency, start-up time and memory (see README, Performance)
	$(GO) build -o bin/acmock ./cmd/acmock
	$(GO) build -o bin/load ./tools/load
	bin/load -acmock bin/acmock

.PHONY: contract contract-iampass contract-binary

contract: ## run the contract tests alone, each against an in-process emulator
	$(GO) test -race -count=1 ./contracttests/...

contract-iampass: ## run the contract tests with the IAMPASS header names (X-IAMPASS-Authentiaction-*)
	ACMOCK_CONTRACT_HEADERS=iampass $(GO) test -race -count=1 ./contracttests/...

contract-binary: ## run the contract tests against acmock started as a separate process (virtual clock)
	GO=$(GO) contracttests/run-against-binary.sh
