.DEFAULT_GOAL := help
GO ?= go

.PHONY: help test
help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-28s %s\n", $$1, $$2}'

test: ## unit, scenario and integration tests (moto)
	$(GO) vet ./...
	$(GO) test -count=1 ./...
