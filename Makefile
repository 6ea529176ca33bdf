# kestra-go: everything the build needs comes from go.mod (tools.go pins the
# generator and the linter), so these targets work on a fresh machine.

GO       ?= go
SPEC     ?= ../shared/kestra-openapi/kestra-ee.yml
BENCH    ?= .
BENCHTIME ?= 1s
BENCHCOUNT ?= 1
FUZZTIME ?= 30s
FUZZ     ?= .

.PHONY: all spec generate check-generated test test-short lint bench buildcost fuzz emulator

all: lint test

## spec: normalize an upstream Kestra OpenAPI document into openapi.yaml.
## SPEC is a file or a URL (a running Kestra serves /swagger/kestra.yml).
spec:
	$(GO) run ./api/normalize -in '$(SPEC)' -out openapi.yaml -overlay api/overlay.yaml

## generate: regenerate gen/ (and the emulator's table of operations) from openapi.yaml.
generate:
	$(GO) generate ./gen
	$(GO) generate ./internal/emulator

## check-generated: fail when gen/ is not what openapi.yaml generates.
check-generated: generate
	@git diff --exit-code --stat -- gen openapi.yaml internal/emulator/specops.gen.go || { echo "gen/ is stale: run 'make generate' and commit the result"; exit 1; }

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

## emulator: serve the Kestra emulator on 127.0.0.1:8080.
emulator:
	$(GO) run ./cmd/kestra-emulator
