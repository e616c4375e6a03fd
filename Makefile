# Developer entry points. CI runs `make test` (through .ci/run).

PKG     := github.com/waasctl/waasctl/internal/build
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --verify --quiet HEAD || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) -X $(PKG).Date=$(DATE)

FUZZTIME ?= 50000x
export FUZZTIME

.PHONY: build test gen fuzz bench release-check

## build: bin/waasctl with the version, commit and build date stamped in
build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/waasctl ./cmd/waasctl

## test: exactly what CI runs: deps, vet, gofmt, race tests, short fuzz runs
test:
	scripts/test.sh

## gen: regenerate completions/, docs/cli/ and docs/exit-codes.md from the command tree
gen:
	go run ./cmd/gen-docs

## release-check: goreleaser check and a snapshot of the Linux release targets, checked (not in `make test`; docs/releasing.md)
release-check:
	scripts/release-check.sh

## fuzz: every fuzz target for FUZZTIME (default 50000x: 50,000 inputs) each
fuzz:
	scripts/fuzz.sh

## bench: all benchmarks, no tests
bench:
	go test -run='^$$' -bench=. -benchmem ./...

## bench-inventory: waasctl vs the official client on sandbox estates (docs/benchmarks.md)
.PHONY: bench-inventory
bench-inventory:
	scripts/bench/inventory.sh

## bench-adaptive: no flags vs the former fixed rate against the sandbox's limit shapes (docs/benchmarks.md); SECONDS_AT_LIMIT=N sizes the estate
.PHONY: bench-adaptive
bench-adaptive:
	scripts/bench/adaptive.sh

## bench-reconcile: waasctl audit on 1,000,000 wallets against a PostgreSQL ledger (docs/benchmarks.md); ARGS='...' go to the program
.PHONY: bench-reconcile
bench-reconcile:
	scripts/bench/reconcile.sh $(ARGS)

## bench-scan: waasctl scan vs gitleaks on a generated corpus of planted keys (docs/benchmarks.md)
.PHONY: bench-scan
bench-scan:
	scripts/bench/scan.sh

## mutate: mutation testing with gremlins (docs/testing.md); PKGS='./internal/auditlog ...' for some only, WORKERS=N
.PHONY: mutate
mutate:
	scripts/mutate.sh $(PKGS)

## mutate-cases: the mutants gremlins skips, in case conditions (docs/testing.md); PKGS as above
CASE_PKGS ?= ./internal/auditlog ./internal/rotation ./internal/credentials ./internal/reconcile ./internal/waas ./internal/sandbox:jwtverify.go
.PHONY: mutate-cases
mutate-cases:
	scripts/with-keyring.sh scripts/with-postgres.sh go run ./scripts/mutate-cases -workers $(or $(WORKERS),1) -out mutate-out $(or $(PKGS),$(CASE_PKGS))

## model-check: the rotation model test with thousands of random sequences (SEQUENCES=N)
SEQUENCES ?= 3000
.PHONY: model-check
model-check:
	go test -race -run 'TestRotationModel$$' -timeout 60m ./cmd/waasctl -rotation.sequences=$(SEQUENCES) -v
