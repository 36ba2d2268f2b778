package rules

import (
	"testing"

	"github.com/pullmedic/pullmedic/pkg/event"
)

func TestImageRegistryRateLimit(t *testing.T) {
	const dockerHub = "CannotPullContainerError: inspect image has been retried 5 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/1.27: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit."
	throttled := ixReason(dockerHub, event.ClassRegistry)
	runRuleCases(t, ImageRegistryRateLimit, []ruleCase{
		{name: "Docker Hub throttling fails with pull-through advice", facts: with(ixFacts, ixThen(ixSetImage("nginx:1.27"), throttled)), status: Fail,
			msg: "Registry docker.io throttled the pull of container api (nginx:1.27)",
			check: both(adviceHas("aws ecr create-pull-through-cache-rule --ecr-repository-prefix docker-hub --upstream-registry-url registry-1.docker.io --credential-arn arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecr-pullthroughcache/docker-hub; then use the image 111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.27"),
				evidenceHas(`"registry":"docker.io"`, "toomanyrequests"))},
		{name: "Docker Hub API host counts as Docker Hub", facts: with(ixFacts, ixThen(ixSetImage("registry-1.docker.io/library/redis:7"), throttled)), status: Fail,
			msg: "Registry docker.io", check: adviceHas("docker-hub/library/redis:7")},
		{name: "quay needs no credential", facts: with(ixFacts, ixThen(ixSetImage("quay.io/prometheus/node-exporter@sha256:3030303030303030303030303030303030303030303030303030303030303030"), ixReason("429 Too Many Requests", event.ClassRegistry))),
			status: Fail, check: adviceHas("--upstream-registry-url quay.io; then use the image 111122223333.dkr.ecr.eu-west-1.amazonaws.com/quay/prometheus/node-exporter@sha256:3030")},
		{name: "other registries get copy advice", facts: with(ixFacts, ixThen(ixSetImage("registry.example.com/app:1"), throttled)), status: Fail,
			msg: "Registry registry.example.com", check: adviceHas("Copy the image into a private ECR repository")},
		{name: "ECR throttling fails with quota advice", facts: with(ixFacts, throttled), status: Fail, msg: "Amazon ECR throttled", check: adviceHas("Service Quotas")},
		{name: "public registry without throttling passes", facts: with(ixFacts, ixSetImage("nginx:1.27")), status: Pass},
		{name: "429 inside a hex ID is not throttling", facts: with(ixFacts, ixThen(ixSetImage("nginx:1.27"), ixReason("task/prod/9a4299f0 failed", event.ClassUnknown))), status: Pass},
		{name: "ECR-only task without throttling skips", facts: ixFacts, status: Skip},
	})
}
