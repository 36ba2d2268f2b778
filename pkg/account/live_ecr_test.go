package account_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/account/awscount"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// verdicts runs the catalog and returns each rule's finding.
func verdicts(f *account.Facts) map[string]rules.Finding {
	out := map[string]rules.Finding{}
	for _, fd := range rules.Evaluate(f) {
		out[fd.Rule] = fd
	}
	return out
}

// moto 5.2.1 answers DescribePullThroughCacheRules with HTTP 500: the first
// pull of an image through a cache cannot be judged, and only the rule that
// needs the cache rules says so. image.repository still reports the missing
// repository, noting that the cache rules are unknown.
func TestCollectPullThroughCacheUnreadable(t *testing.T) {
	fx := seed(t)
	task := fx.task(fx.typicalTD, strings.Replace(fx.typicalImage, "/web:", "/docker-hub/library/nginx:", 1))
	cfg := fx.cfg.Copy()
	cfg.RetryMaxAttempts = 1 // a 500 is retried, and moto's never changes
	f := collect(t, account.NewLive(cfg), task)
	wantErrors(t, f, account.SrcPullThroughCache)
	if msg := f.Errors[account.SrcPullThroughCache]; !strings.HasPrefix(msg, "ecr:DescribePullThroughCacheRules "+accountID+"/"+taskRegion+": ") {
		t.Errorf("error = %q, want the call and the registry", msg)
	}
	for id, fd := range verdicts(f) {
		switch {
		case id == "image.pull-through-cache":
			if fd.Status != rules.Error || !strings.Contains(fd.Message, "ecr:DescribePullThroughCacheRules") {
				t.Errorf("%s = %s (%s), want error naming the read", id, fd.Status, fd.Message)
			}
		case fd.Status == rules.Error:
			t.Errorf("%s: error: %s", id, fd.Message)
		case id == "image.repository" && (fd.Status != rules.Fail || !strings.Contains(fd.Advice, "its rules could not be read")):
			t.Errorf("%s = %s (%s / %s), want fail with a note", id, fd.Status, fd.Message, fd.Advice)
		}
	}
}

// cacheRulesECR answers DescribePullThroughCacheRules, which moto cannot, and
// counts the calls; every other read goes to moto.
type cacheRulesECR struct {
	account.ECRAPI
	rules []ecrtypes.PullThroughCacheRule
	calls *atomic.Int32
}

func (c cacheRulesECR) DescribePullThroughCacheRules(context.Context, *ecr.DescribePullThroughCacheRulesInput, ...func(*ecr.Options)) (*ecr.DescribePullThroughCacheRulesOutput, error) {
	c.calls.Add(1)
	return &ecr.DescribePullThroughCacheRulesOutput{PullThroughCacheRules: c.rules}, nil
}

// The first pull of two images through one cache rule: the registry's rules
// are read once, the rule's credential secret once, and the verdict moves
// from image.repository to image.pull-through-cache.
func TestCollectPullThroughCacheFirstPull(t *testing.T) {
	fx := seed(t)
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(fx.cfg, func(o *secretsmanager.Options) { o.Region = taskRegion })
	cred, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/docker-hub"), SecretString: aws.String(`{"username":"u","accessToken":"t"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var ruleCalls atomic.Int32
	clients := account.DefaultClients()
	real := clients.ECR
	clients.ECR = func(cfg aws.Config) account.ECRAPI {
		return cacheRulesECR{ECRAPI: real(cfg), calls: &ruleCalls, rules: []ecrtypes.PullThroughCacheRule{{
			EcrRepositoryPrefix: aws.String("docker-hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"),
			RegistryId: aws.String(accountID), CredentialArn: cred.ARN,
		}}}
	}
	calls := awscount.New()
	cfg := fx.cfg.Copy()
	calls.Attach(&cfg)
	registry := accountID + ".dkr.ecr." + taskRegion + ".amazonaws.com/"
	task := fx.task(fx.typicalTD, registry+"docker-hub/library/nginx:1.27")
	task.Containers = append(task.Containers, event.Container{Name: "cache", Image: registry + "docker-hub/library/redis:7"})

	f := collect(t, account.NewLive(cfg, account.WithClients(clients)), task)
	wantErrors(t, f)
	if n := ruleCalls.Load(); n != 1 {
		t.Errorf("DescribePullThroughCacheRules called %d times, want once for the registry", n)
	}
	if n := calls.Count("DescribeSecret"); n != 1 {
		t.Errorf("DescribeSecret called %d times, want once for the rule's credential", n)
	}
	if len(f.ECR.PullThroughCacheRules) != 1 || len(f.Secrets.SecretsManager) != 1 || aws.ToString(f.Secrets.SecretsManager[0].ARN) != aws.ToString(cred.ARN) {
		t.Errorf("cache rules %+v, secrets %+v: want the rule and its credential", f.ECR.PullThroughCacheRules, f.Secrets.SecretsManager)
	}
	v := verdicts(f)
	if fd := v["image.repository"]; fd.Status != rules.Skip || !strings.Contains(fd.Message, `pull-through cache rule "docker-hub"`) {
		t.Errorf("image.repository = %s (%s), want skip naming the cache rule", fd.Status, fd.Message)
	}
	if fd := v["image.pull-through-cache"]; fd.Status != rules.Fail || !strings.Contains(fd.Message, "may not ecr:CreateRepository") {
		t.Errorf("image.pull-through-cache = %s (%s), want fail: the typical role may only pull", fd.Status, fd.Message)
	}
}

// A multi-platform image is judged by its index: BatchGetImage is called for
// it and for nothing else, and an index without the task's architecture
// fails image.platform though the stop reason says nothing of platforms.
func TestCollectImageIndex(t *testing.T) {
	fx := seed(t)
	ctx := context.Background()
	c := ecr.NewFromConfig(fx.cfg, func(o *ecr.Options) { o.Region = taskRegion })
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []any{
		map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + strings.Repeat("b", 64), "size": 1024,
			"platform": map[string]string{"architecture": "arm64", "os": "linux"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("web"), ImageTag: aws.String("multi"),
		ImageManifest: aws.String(string(index)), ImageManifestMediaType: aws.String("application/vnd.oci.image.index.v1+json")}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, image string
		fetched     int
		platform    rules.Status
	}{
		{"single-platform image", fx.typicalImage, 0, rules.Pass},
		{"arm64-only index for an X86_64 task", strings.Replace(fx.typicalImage, ":2.0", ":multi", 1), 1, rules.Fail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := awscount.New()
			cfg := fx.cfg.Copy()
			calls.Attach(&cfg)
			task := fx.task(fx.typicalTD, tt.image)
			task.Failure = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
			f := collect(t, account.NewLive(cfg), task)
			wantErrors(t, f)
			if n := calls.Count("BatchGetImage"); n != tt.fetched {
				t.Errorf("BatchGetImage called %d times, want %d", n, tt.fetched)
			}
			if len(f.ImageManifests(webRepo)) != tt.fetched {
				t.Errorf("image manifests = %+v", f.ECR.ImageManifests)
			}
			if fd := verdicts(f)["image.platform"]; fd.Status != tt.platform {
				t.Errorf("image.platform = %s (%s), want %s", fd.Status, fd.Message, tt.platform)
			}
		})
	}
}
