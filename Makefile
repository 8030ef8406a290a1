# gopear's developer commands. `make test` is what CI runs.

GO       ?= go
FUZZTIME ?= 10s
NPM_FLAGS = --no-audit --no-fund

.PHONY: test race vet interop bench fuzz vectors

# Everything: the pinned JS reference, go vet, and every test with the
# interop tests required to run (a missing reference fails, never skips).
test: interop vet
	GOPEAR_REQUIRE_INTEROP=1 $(GO) test -count=1 -timeout 20m ./...

# The same tests under the race detector.
race: interop vet
	GOPEAR_REQUIRE_INTEROP=1 $(GO) test -race -count=1 -timeout 40m ./...

vet:
	$(GO) vet ./...

# Install the JS reference exactly as package-lock.json pins it.
interop: interop/node_modules/.package-lock.json

interop/node_modules/.package-lock.json: interop/package.json interop/package-lock.json
	cd interop && npm ci $(NPM_FLAGS)

# The same workloads on Go and on the JS reference, with Go/JS ratios.
bench: interop
	$(GO) run ./bench

# Each fuzz target for FUZZTIME (default 10s). Their seed corpora already run
# in `make test`.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# Check this machine's Go against the JS reference on a few vectors: the
# quickest way to see gopear and the reference agree.
vectors: interop
	$(GO) run ./examples/vectors
