# kestra-go: everything the build needs comes from go.mod (tools.go pins the
# generator and the linter), so these targets work on a fresh machine.

GO       ?= go
SPEC     ?= ../shared/kestra-openapi/kestra-ee.yml
BENCH    ?= .
BENCHTIME ?= 1s
FUZZTIME ?= 30s

.PHONY: all spec generate check-generated test test-short lint bench fuzz emulator

all: lint test

## spec: normalize an upstream Kestra OpenAPI document into openapi.yaml.
## SPEC is a file or a URL (a running Kestra serves /swagger/kestra.yml).
spec:
	$(GO) run ./api/normalize -in '$(SPEC)' -out openapi.yaml -overlay api/overlay.yaml

## generate: regenerate gen/ from openapi.yaml.
generate:
	$(GO) generate ./gen

## check-generated: fail when gen/ is not what openapi.yaml generates.
check-generated: generate
	@git diff --exit-code --stat -- gen openapi.yaml || { echo "gen/ is stale: run 'make generate' and commit the result"; exit 1; }

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

## bench: SDK against raw net/http baselines, in the same run.
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count 1 ./kestra/... | tee bench.out

## fuzz: run each fuzz target for FUZZTIME (not part of CI; the seed corpora run in `make test`).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## emulator: serve the Kestra emulator on 127.0.0.1:8080.
emulator:
	$(GO) run ./cmd/kestra-emulator
