package account

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// The two ECR sections of this version, as a person pastes them: keys in
// another case, an epoch timestamp, and the manifest as an object rather
// than the JSON text BatchGetImage returns.
const ecrAdditions = `{
  "schema": "pullmedic.snapshot/v1",
  "ecr": {
    "PullThroughCacheRules": [{
      "ecrRepositoryPrefix": "docker-hub",
      "UpstreamRegistryUrl": "registry-1.docker.io",
      "createdAt": 1767225600,
      "registryId": "111122223333",
      "credentialArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecr-pullthroughcache/docker-hub-Xy12Ab",
      "upstreamRegistry": "docker-hub"
    }],
    "imageManifests": {"team/api": [{
      "registryId": "111122223333",
      "repositoryName": "team/api",
      "imageId": {"imageDigest": "sha256:1010", "imageTag": "1.0"},
      "imageManifestMediaType": "application/vnd.oci.image.index.v1+json",
      "imageManifest": {"schemaVersion": 2, "manifests": [{"digest": "sha256:aa", "platform": {"architecture": "arm64", "os": "linux"}}]}
    }]}
  }
}`

func TestSnapshotECRAdditions(t *testing.T) {
	s, err := LoadSnapshot("additions.json", []byte(ecrAdditions))
	if err != nil {
		t.Fatal(err)
	}
	want := ECRSection{
		PullThroughCacheRules: []ecrtypes.PullThroughCacheRule{{
			EcrRepositoryPrefix: aws.String("docker-hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"),
			CreatedAt: aws.Time(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), RegistryId: aws.String("111122223333"),
			CredentialArn:    aws.String("arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecr-pullthroughcache/docker-hub-Xy12Ab"),
			UpstreamRegistry: ecrtypes.UpstreamRegistryDockerHub,
		}},
		ImageManifests: map[string][]ecrtypes.Image{"team/api": {{
			RegistryId: aws.String("111122223333"), RepositoryName: aws.String("team/api"),
			ImageId:                &ecrtypes.ImageIdentifier{ImageDigest: aws.String("sha256:1010"), ImageTag: aws.String("1.0")},
			ImageManifestMediaType: aws.String("application/vnd.oci.image.index.v1+json"),
			ImageManifest:          aws.String(`{"manifests":[{"digest":"sha256:aa","platform":{"architecture":"arm64","os":"linux"}}],"schemaVersion":2}`),
		}}},
	}
	if !reflect.DeepEqual(s.ECR, want) {
		t.Errorf("loaded ECR section = %+v\nwant %+v", s.ECR, want)
	}
	back, out := roundTrip(t, s)
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip changed the snapshot:\n%s", out)
	}
	for _, key := range []string{`"pullThroughCacheRules"`, `"imageManifests"`, `"ecrRepositoryPrefix"`, `"imageManifestMediaType"`} {
		if !strings.Contains(string(out), key) {
			t.Errorf("marshalled snapshot lacks %s, as the AWS CLI prints it:\n%s", key, out)
		}
	}
}

func TestPullThroughCacheRule(t *testing.T) {
	rule := func(registry, prefix string) ecrtypes.PullThroughCacheRule {
		return ecrtypes.PullThroughCacheRule{RegistryId: aws.String(registry), EcrRepositoryPrefix: aws.String(prefix)}
	}
	section := ECRSection{PullThroughCacheRules: []ecrtypes.PullThroughCacheRule{
		rule("111122223333", "ROOT"),
		rule("111122223333", "docker-hub"),
		rule("111122223333", "docker-hub/library/"),
		rule("444455556666", "quay"),
		rule("", "ghcr"),
	}}
	for _, tt := range []struct {
		name, registry, repository, want string
	}{
		{"longest prefix wins", "111122223333", "docker-hub/library/nginx", "docker-hub/library/"},
		{"a prefix covers what lies under it", "111122223333", "docker-hub/bitnami/redis", "docker-hub"},
		{"ROOT covers what no prefix does", "111122223333", "team/api", "ROOT"},
		{"a prefix is a whole path part", "444455556666", "quayside/app", ""},
		{"a prefix is not a repository", "444455556666", "quay", ""},
		{"rules of another registry do not count", "444455556666", "docker-hub/library/nginx", ""},
		{"a rule without a registry matches any", "444455556666", "ghcr/org/app", "ghcr"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if r := section.PullThroughCacheRule(tt.registry, tt.repository); r != nil {
				got = aws.ToString(r.EcrRepositoryPrefix)
			}
			if got != tt.want {
				t.Errorf("rule for %s in %s = %q, want %q", tt.repository, tt.registry, got, tt.want)
			}
		})
	}
}
