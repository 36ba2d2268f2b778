package rules

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

func TestImageTag(t *testing.T) {
	const (
		repoURI = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/api"
		missing = "sha256:2020202020202020202020202020202020202020202020202020202020202020"
	)
	manifestUnknown := ixReason("CannotPullContainerError: ghcr.io/acme/api:9: not found: manifest unknown", event.ClassImage)
	runRuleCases(t, ImageTag, []ruleCase{
		{name: "existing tag passes", facts: ixFacts, status: Pass, msg: ixImage},
		{name: "existing digest passes", facts: with(ixFacts, ixSetImage(repoURI+"@"+ixDigest)), status: Pass},
		{name: "missing tag fails with recent tags", facts: with(ixFacts, ixSetImage(repoURI+":2.0")), status: Fail,
			msg: "Tag 2.0 is not in repository team/api, so container api (" + repoURI + ":2.0) cannot be pulled",
			check: both(evidenceHas(`"recentTags":["1.0","stable","0.9"]`),
				adviceHas("aws ecr describe-images --repository-name team/api --registry-id 111122223333 --region eu-west-1 --query"))},
		{name: "missing digest fails", facts: with(ixFacts, ixSetImage(repoURI+"@"+missing)), status: Fail, msg: "Digest " + missing + " is not in repository team/api"},
		{name: "empty repository fails", facts: with(ixFacts, func(f *account.Facts) { f.ECR.Images = nil }), status: Fail,
			msg: "Tag 1.0 is not in repository team/api", check: evidenceHas(`"recentTags":[]`)},
		{name: "archived image fails", facts: with(ixFacts, func(f *account.Facts) { f.ECR.Images["team/api"][1].ImageStatus = ecrtypes.ImageStatusArchived }),
			status: Fail, msg: "archived", check: adviceHas("--image-id imageDigest=" + ixDigest + " --target-storage-class STANDARD")},
		{name: "missing repository skips", facts: with(ixFacts, func(f *account.Facts) { f.ECR.Repositories = nil }), status: Skip},
		{name: "failed image read is an error", facts: failedRead(ixFacts, account.SrcImages), status: Error, msg: "ecr:images: AccessDenied"},
		{name: "non-ECR manifest unknown fails from the reason", facts: with(ixFacts, ixThen(ixSetImage("ghcr.io/acme/api:9"), manifestUnknown)), status: Fail,
			msg: "The registry reports that the image of container api (ghcr.io/acme/api:9) does not exist", check: evidenceHas(`"source":"stop reason"`, "manifest unknown")},
		{name: "non-ECR platform mismatch is image.platform's", facts: with(ixFacts, ixThen(ixSetImage("nginx:1"),
			ixReason("CannotPullContainerError: image Manifest does not contain descriptor matching platform 'linux/arm64'", event.ClassImage))), status: Skip},
		{name: "non-ECR with another reason skips", facts: with(ixFacts, ixSetImage("nginx:1")), status: Skip},

		// The digest ECS pinned at deployment is what the task pulled.
		{name: "pinned digest that exists passes", facts: with(ixFacts, pinDigest(ixDigest)), status: Pass, msg: ixImage + "@" + ixDigest},
		{name: "pinned digest gone while the tag moved on fails", facts: with(ixFacts, ixThen(pinDigest(missing), inService("api"))), status: Fail,
			msg: "Digest " + missing + ", which ECS pinned for container api (" + ixImage + ") at deployment, is no longer in repository team/api, although tag 1.0 still exists (now " + ixDigest + ")",
			check: both(evidenceHas(`"pinnedDigest":"`+missing+`"`, `"tagDigest":"`+ixDigest+`"`),
				adviceHas("aws ecs update-service --cluster prod --service api --force-new-deployment --region eu-west-1. Then keep lifecycle rules from expiring images in use"))},
		{name: "pinned digest and tag both gone fails", facts: with(ixFacts, ixThen(ixSetImage(repoURI+":2.0"), pinDigest(missing), inService("api"))), status: Fail,
			msg: "and tag 2.0 is gone too", check: adviceHas("Push tag 2.0 again, then make ECS resolve it: aws ecs update-service")},
		{name: "pinned digest of a standalone task", facts: with(ixFacts, pinDigest(missing)), status: Fail,
			msg: "although tag 1.0 still exists", check: adviceHas("Make ECS resolve the tag again, and start the task again.")},
		{name: "digest pinned in the stop reason", facts: with(ixFacts, ixThen(inService("api"), func(f *account.Facts) {
			f.Task.Failure = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref " + ixImage + "@" + missing + ": not found"
		})), status: Fail, msg: "although tag 1.0 still exists"},
		{name: "pinned digest with a failed image read is an error", facts: failedRead(with(ixFacts, pinDigest(missing)), account.SrcImages), status: Error},
	})
}

// pinDigest sets the digest the event says the api container pulled.
func pinDigest(digest string) func(*account.Facts) {
	return func(f *account.Facts) { f.Task.Containers[0].ImageDigest = digest }
}

// inService makes the task one of a service's.
func inService(name string) func(*account.Facts) {
	return func(f *account.Facts) { f.Task.Group, f.Task.Service = "service:"+name, name }
}

func TestImageTagLatestTags(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var details []ecrtypes.ImageDetail
	for i, tags := range [][]string{{"a"}, {"b", "b2"}, nil, {"c"}, {"d"}, {"e"}} {
		details = append(details, ecrtypes.ImageDetail{ImageTags: tags, ImagePushedAt: aws.Time(base.Add(time.Duration(i) * time.Hour))})
	}
	if got, want := latestTags(details, recentTags), []string{"e", "d", "c", "b", "b2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("latestTags = %v, want %v", got, want)
	}
}
