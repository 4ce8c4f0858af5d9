# crawler: make with no target lists the targets.
GO      ?= go
BIN     := bin/crawler
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 20s
# sqlite_fts5 compiles SQLite's FTS5 into mattn/go-sqlite3, for
# parse.full_text_index. Plain go build / go test leave it out: the crawler
# then refuses parse.full_text_index: true with an error naming the tag.
TAGS    := sqlite_fts5

.DEFAULT_GOAL := help
.PHONY: help build test demo bench fuzz vet clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/crawler
	CGO_ENABLED=1 $(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/crawler

vet: ## go vet
	CGO_ENABLED=1 $(GO) vet -tags $(TAGS) ./...

test: vet ## go vet and all tests with the race detector (PostgreSQL tests on a throwaway cluster when installed)
	CGO_ENABLED=1 ./scripts/with-postgres $(GO) test -tags $(TAGS) -race -count=1 -timeout 20m ./...

demo: build ## crawl the built-in demo site on loopback into demo/demo.db
	./$(BIN) demo

bench: build ## benchmarks: throughput vs plain colly, frontier scale, politeness, workers on PostgreSQL (prints a table)
	CGO_ENABLED=1 ./scripts/with-postgres $(GO) run -tags $(TAGS) ./bench

fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; CGO_ENABLED=1 $(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

clean: ## remove build output and the demo database
	rm -rf bin demo
