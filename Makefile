.DEFAULT_GOAL := help
GO ?= go
# The Lambda bootstraps: static linux/arm64 (Graviton), without the legacy RPC
# mode that provided.al2023 does not use.
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags '-s -w'
FUZZTIME ?= 10s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help build build-DiagnoseFunction build-RemediateFunction build-ApproveFunction test bench fuzz lint clean
help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-28s %s\n", $$1, $$2}'

build: ## the Lambda bootstraps (linux/arm64) into bin/, and the CLI for this machine
	$(LAMBDA_BUILD) -o bin/diagnose/bootstrap ./functions/diagnose
	$(LAMBDA_BUILD) -o bin/remediate/bootstrap ./functions/remediate
	$(LAMBDA_BUILD) -o bin/approve/bootstrap ./functions/approve
	$(GO) build -trimpath -o bin/pullmedic ./cmd/pullmedic

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
define sam-build
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it" >&2; exit 2; }
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
endef

build-DiagnoseFunction: ## (sam build) the diagnose bootstrap into ARTIFACTS_DIR
	$(call sam-build,diagnose)

build-RemediateFunction: ## (sam build) the remediate bootstrap into ARTIFACTS_DIR
	$(call sam-build,remediate)

build-ApproveFunction: ## (sam build) the approve bootstrap (Slack's Apply fix button) into ARTIFACTS_DIR
	$(call sam-build,approve)

# go test hides the skip messages of a package that passes, so the missing
# tools are named before the tests and again after them (fatal under CI=true).
test: ## vet; unit, scenario, moto and Lambda-runtime (RIE) tests; cfn-lint the template
	@scripts/check-tools
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	@$(MAKE) --no-print-directory cfn-lint
	@scripts/check-tools moto_server aws-lambda-rie

# cfn-lint runs the real SAM transform.
.PHONY: cfn-lint
cfn-lint:
	@scripts/check-tools cfn-lint
	@if command -v cfn-lint >/dev/null 2>&1; then echo "cfn-lint template.yaml deploy/member.yaml"; cfn-lint template.yaml deploy/member.yaml; fi

bench: build ## one table: API calls and rounds, wall time, ns/op, cold start, binary sizes
	scripts/bench-table

fuzz: ## run every Fuzz target for FUZZTIME (10s)
	FUZZTIME=$(FUZZTIME) scripts/fuzz

lint: ## gofmt, go vet, staticcheck (when the module proxy serves it), cfn-lint
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt -w needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if $(GO) run $(STATICCHECK) -version >/dev/null 2>&1; then \
		echo "$(GO) run $(STATICCHECK) ./..."; $(GO) run $(STATICCHECK) ./...; \
	else echo "staticcheck skipped: $(STATICCHECK) could not be fetched"; fi
	@$(MAKE) --no-print-directory cfn-lint

clean: ## remove build outputs
	rm -rf bin .aws-sam dist

DEMO_SCENARIOS ?= public-subnet-no-public-ip endpoint-sg-missing-443 nat-failed explicit-deny-boundary cross-account-no-repo-policy tgw-default-route-timeout ec2-bridge-host-sg-no-egress
# Scenarios the demo fixes, as NAME:FLAGS. public-subnet-no-public-ip's cluster
# is tagged "enabled"; endpoint-sg-missing-443's only "dry-run", so --force.
DEMO_FIXES ?= public-subnet-no-public-ip: endpoint-sg-missing-443:--force

.PHONY: demo
demo: ## build the CLI; diagnose a few scenarios offline (exit 3 = cause found), then fix two
	$(GO) build -o bin/pullmedic ./cmd/pullmedic
	@for s in $(DEMO_SCENARIOS); do \
		printf '\n===== scenario %s =====\n\n' "$$s"; \
		bin/pullmedic diagnose --event examples/scenarios/$$s/event.json --snapshot examples/scenarios/$$s/snapshot.json || test $$? -eq 3 || exit 1; \
	done
	@printf '\n===== preflight: a new task definition revision whose tag was never pushed =====\n\n'
	@d=examples/preflight/new-revision-tag-never-pushed; bin/pullmedic preflight $$(cat $$d/args) --snapshot $$d/snapshot.json || test $$? -eq 3 || exit 1
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	printf '\n===== fixes, applied to copies of the snapshots in %s (removed at the end) =====\n' "$$tmp" && \
	for f in $(DEMO_FIXES); do \
		s=$${f%%:*}; flags=$${f#*:}; d=examples/scenarios/$$s; \
		if [ -n "$$flags" ]; then why="with $$flags: the cluster's tag does not allow it unattended"; else why="the cluster's tag allows it"; fi; \
		printf '\n===== fix %s (%s) =====\n\n' "$$s" "$$why"; \
		bin/pullmedic remediate --apply $$flags --event $$d/event.json --snapshot $$d/snapshot.json \
			--out $$tmp/$$s.json --changes $$tmp/$$s.changes.json || exit 1; \
		printf '\n----- diagnose the fixed snapshot -----\n\n'; \
		bin/pullmedic diagnose --event $$d/event.json --snapshot $$tmp/$$s.json || exit 1; \
	done
