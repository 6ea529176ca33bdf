# kestra-go: everything the build needs comes from go.mod (tools.go pins the
# generator and the linter), so these targets work on a fresh machine.

GO       ?= go
# SPEC: the upstream OpenAPI document `make spec` normalizes. By default the
# one a Kestra running on localhost serves (no auth needed); give a file or
# another URL to use another: make spec SPEC=path/to/kestra.yml
SPEC     ?= http://localhost:8080/swagger/kestra.yml
BENCH    ?= .
BENCHTIME ?= 1s
BENCHCOUNT ?= 1
FUZZTIME ?= 30s
FUZZ     ?= .

.PHONY: all spec generate check-generated test test-short lint bench buildcost fuzz emulator test-kestra

all: lint test

## spec: normalize an upstream Kestra OpenAPI document into openapi.yaml.
## SPEC is a file or a URL (a running Kestra serves /swagger/kestra.yml).
spec:
	$(GO) run ./api/normalize -in '$(SPEC)' -out openapi.yaml -overlay api/overlay.yaml

## generate: regenerate gen/ (and the emulator's table of operations) from openapi.yaml.
generate:
	$(GO) generate ./gen
	$(GO) generate ./internal/emulator
	$(GO) generate ./kestra

## check-generated: fail when gen/ (or the emulator's table of operations) is
## not what openapi.yaml generates. It
## generates into a temporary folder and compares, so it changes nothing
## and works without git (a release tarball).
check-generated:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(GO) build -o "$$tmp/oapi-codegen" github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen && \
	  (cd "$$tmp" && ./oapi-codegen -config "$(CURDIR)/oapi-codegen.yaml" "$(CURDIR)/openapi.yaml") && \
	  $(GO) run ./internal/emulator/specops openapi.yaml "$$tmp/specops.gen.go" && \
	  $(GO) run ./internal/emulator/specops -streams openapi.yaml "$$tmp/streamroutes.gen.go" && \
	  for f in gen/kestra.gen.go internal/emulator/specops.gen.go kestra/streamroutes.gen.go; do \
	    if ! cmp -s "$$tmp/$$(basename $$f)" $$f; then \
	      diff -u $$f "$$tmp/$$(basename $$f)" | head -n 40; \
	      echo "$$f is stale: run 'make generate' and commit the result"; exit 1; \
	    fi; \
	  done

## test: the whole suite with the race detector, then the generated-code check.
test:
	$(GO) test -race -count=1 ./...
	$(MAKE) check-generated

test-short:
	$(GO) test -short ./...

## lint: gofmt, go vet and staticcheck.
lint:
	@out=$$(gofmt -l . ); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck ./...

## bench: SDK against raw net/http baselines, in the same run. Writes
## bench.out (benchstat input; BENCHCOUNT=6 for a benchstat-worthy sample),
## then prints each /sdk benchmark against its /raw twin: ns/op ratio and
## allocs difference.
bench:
	@rc=$$(mktemp); { $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./kestra/...; echo $$? > $$rc; } | tee bench.out; \
	  s=$$(cat $$rc); rm -f $$rc; [ "$$s" = 0 ] || exit $$s
	@echo; $(GO) run ./internal/benchreport < bench.out

## buildcost: build time and binary size of tiny programs importing kestra,
## gen, or only net/http (cold and warm cache; not part of test).
buildcost:
	$(GO) run ./internal/buildcost

## fuzz: run each fuzz target matching FUZZ (a regexp, default all) for
## FUZZTIME (not part of CI; the seed corpora run in `make test`):
##   make fuzz FUZZ=ParseErrorBody FUZZTIME=10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  list=$$($(GO) test -list '^Fuzz' $$pkg) || { echo "$$list"; exit 1; }; \
	  for f in $$(echo "$$list" | grep '^Fuzz' | grep -E '$(FUZZ)'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## emulator: build the Kestra emulator into bin/, then run it in place of
## make's shell (so that stopping it stops the emulator; go run would leave
## it running), on 127.0.0.1:8080 unless EMULATOR_FLAGS says otherwise:
##   make emulator EMULATOR_FLAGS='-user admin@example.com -password Secret123'
EMULATOR_FLAGS ?=
emulator:
	$(GO) build -o bin/kestra-emulator ./cmd/kestra-emulator
	exec ./bin/kestra-emulator $(EMULATOR_FLAGS)

## test-kestra: the SDK and the emulator checked against Kestra. Runs Kestra's
## Python SDK, kestrapy (pinned below, in a virtual environment kept in
## KESTRAPY_VENV; pip's cache stays in ~/.cache/pip), through a lifecycle
## against cmd/kestra-emulator, then the contract suite (internal/contract) on
## the in-process emulator. With KESTRA_API_URL (and KESTRA_USERNAME,
## KESTRA_PASSWORD) set, it runs kestrapy and the suite against that server
## too, and fails on any difference between the answers of the two servers
## that internal/contract/accepted-differences.txt does not list.
KESTRAPY_VERSION       ?= 2.0.3
KESTRAPY_REGEX_VERSION ?= 2026.11.19
KESTRAPY_VENV          ?= .venv-kestrapy
PYTHON3                ?= python3
CONTRACT_DIR           ?= .contract

$(KESTRAPY_VENV)/.kestrapy-$(KESTRAPY_VERSION):
	rm -rf '$(KESTRAPY_VENV)'
	$(PYTHON3) -m venv '$(KESTRAPY_VENV)'
	'$(KESTRAPY_VENV)/bin/pip' install --disable-pip-version-check -q 'kestrapy==$(KESTRAPY_VERSION)' 'regex==$(KESTRAPY_REGEX_VERSION)'
	touch '$@'

test-kestra: $(KESTRAPY_VENV)/.kestrapy-$(KESTRAPY_VERSION)
	test/kestrapy/run.sh '$(KESTRAPY_VENV)/bin/python'
	@mkdir -p '$(CONTRACT_DIR)'
ifneq ($(KESTRA_API_URL),)
	PYTHONWARNINGS=ignore::UserWarning '$(KESTRAPY_VENV)/bin/python' test/kestrapy/lifecycle.py
	KESTRA_CONTRACT_LOG='$(abspath $(CONTRACT_DIR))/kestra.json' $(GO) test -count=1 -v ./internal/contract/
	env -u KESTRA_API_URL KESTRA_CONTRACT_LOG='$(abspath $(CONTRACT_DIR))/emulator.json' $(GO) test -count=1 ./internal/contract/
	$(GO) run ./internal/contract/shapediff -accepted internal/contract/accepted-differences.txt \
	  kestra='$(CONTRACT_DIR)/kestra.json' emulator='$(CONTRACT_DIR)/emulator.json'
else
	KESTRA_CONTRACT_LOG='$(abspath $(CONTRACT_DIR))/emulator.json' $(GO) test -race -count=1 ./internal/contract/...
endif
