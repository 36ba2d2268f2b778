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
	})
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
