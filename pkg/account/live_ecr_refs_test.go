package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/account/awscount"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// The digest a service's task pulled (containers[].imageDigest) is read
// instead of its tag: one DescribeImages call when it exists, as for a tag,
// and a second, by tag, only when it is gone, so image.tag can say that
// the tag moved on while the pinned image was deleted.
func TestCollectPinnedDigest(t *testing.T) {
	fx := seed(t)
	c := ecr.NewFromConfig(fx.cfg, func(o *ecr.Options) { o.Region = taskRegion })
	out, err := c.DescribeImages(context.Background(), &ecr.DescribeImagesInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("2.0")}}})
	if err != nil || len(out.ImageDetails) != 1 {
		t.Fatalf("seeded image: %v, %+v", err, out)
	}
	current := aws.ToString(out.ImageDetails[0].ImageDigest)
	gone := "sha256:" + strings.Repeat("9", 64)
	for _, tt := range []struct {
		name, digest string
		reads        int
		status       rules.Status
		message      string
	}{
		{"no digest in the event: the tag", "", 1, rules.Pass, "exist in ECR"},
		{"pinned digest exists", current, 1, rules.Pass, "@" + current},
		{"pinned digest gone, tag moved on", gone, 2, rules.Fail, "tag 2.0 still exists (now " + current + ")"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := awscount.New()
			cfg := fx.cfg.Copy()
			calls.Attach(&cfg)
			task := fx.typical()
			task.Containers[0].ImageDigest = tt.digest
			f := collect(t, account.NewLive(cfg), task)
			wantErrors(t, f)
			if n := calls.Count("DescribeImages"); n != tt.reads {
				t.Errorf("DescribeImages called %d times, want %d", n, tt.reads)
			}
			fd := verdicts(f)["image.tag"]
			if fd.Status != tt.status || !strings.Contains(fd.Message+" "+strings.Join(anyStrings(fd.Evidence["images"]), " "), tt.message) {
				t.Errorf("image.tag = %s (%s, %v), want %s with %q", fd.Status, fd.Message, fd.Evidence, tt.status, tt.message)
			}
		})
	}
}

// anyStrings reads an evidence list of strings.
func anyStrings(v any) []string {
	s, _ := v.([]string)
	return s
}

// An image outside ECR that most likely meant the task's ECR registry costs
// one DescribeRepositories, of the meant repository; any other image outside
// ECR costs none.
func TestCollectRegistryNearMiss(t *testing.T) {
	fx := seed(t)
	typo := strings.Replace(fx.typicalImage, ".amazonaws.com/", ".amazonaws.con/", 1)
	notFound := "CannotPullContainerError: failed to resolve ref docker.io/library/web:2.0: pull access denied, repository does not exist or may require authorization"
	for _, tt := range []struct {
		name, image, failure string
		reads                int
		status               rules.Status
		message              string
	}{
		{"misspelled ECR host", typo, "", 1, rules.Fail, "did you mean " + fx.typicalImage + "?"},
		{"no registry, and Docker Hub has no such image", "web:2.0", notFound, 1, rules.Fail, "names no registry, so it was pulled from Docker Hub"},
		{"no registry, on another stop reason", "web:2.0", "", 0, rules.Skip, ""},
		{"another registry", "ghcr.io/acme/web:2.0", notFound, 0, rules.Skip, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := awscount.New()
			cfg := fx.cfg.Copy()
			calls.Attach(&cfg)
			task := fx.task(fx.typicalTD, tt.image)
			if tt.failure != "" {
				task.Failure, task.Class, task.FailedContainer = tt.failure, event.ClassImage, "app"
			}
			f := collect(t, account.NewLive(cfg), task)
			wantErrors(t, f)
			if n := calls.Count("DescribeRepositories"); n != tt.reads {
				t.Errorf("DescribeRepositories called %d times, want %d", n, tt.reads)
			}
			if fd := verdicts(f)["image.repository"]; fd.Status != tt.status || !strings.Contains(fd.Message, tt.message) {
				t.Errorf("image.repository = %s (%s), want %s with %q", fd.Status, fd.Message, tt.status, tt.message)
			}
		})
	}
}
