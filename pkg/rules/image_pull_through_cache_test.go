package rules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

const (
	ptcImage   = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.27"
	ptcRepoARN = "arn:aws:ecr:eu-west-1:111122223333:repository/docker-hub/library/nginx"
	ptcCred    = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecr-pullthroughcache/docker-hub-Xy12Ab"
	// ptcGrant lets the role pull and import through the docker-hub prefix.
	ptcGrant = `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"},
{"Effect":"Allow","Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],"Resource":"arn:aws:ecr:eu-west-1:111122223333:repository/docker-hub/*"}]}`
)

// ptcFirstPull is the fixture's task pulling Docker Hub's nginx through the
// registry's "docker-hub" cache rule for the first time: no repository yet.
func ptcFirstPull(f *account.Facts) {
	ixSetImage(ptcImage)(f)
	f.ECR.PullThroughCacheRules = []ecrtypes.PullThroughCacheRule{
		{EcrRepositoryPrefix: aws.String("ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws"), RegistryId: aws.String(ixAccount)},
		{EcrRepositoryPrefix: aws.String("docker-hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"), RegistryId: aws.String(ixAccount),
			UpstreamRegistry: ecrtypes.UpstreamRegistryDockerHub, CredentialArn: aws.String(ptcCred)},
	}
	f.Secrets.SecretsManager = []smtypes.SecretListEntry{{ARN: aws.String(ptcCred), Name: aws.String("ecr-pullthroughcache/docker-hub")}}
}

// ptcCachedRepo makes the cache repository exist, with only an older tag cached.
func ptcCachedRepo(f *account.Facts) {
	f.ECR.Repositories = append(f.ECR.Repositories, ecrtypes.Repository{RepositoryName: aws.String("docker-hub/library/nginx"), RegistryId: aws.String(ixAccount)})
	f.ECR.Images["docker-hub/library/nginx"] = []ecrtypes.ImageDetail{{ImageTags: []string{"1.26"}, ImageDigest: aws.String(ixDigest)}}
}

func TestImagePullThroughCache(t *testing.T) {
	firstPull := with(ixFacts, ptcFirstPull)
	granted := func(base func() *account.Facts) func() *account.Facts { return with(base, ixInline(ptcGrant)) }
	runRuleCases(t, ImagePullThroughCache, []ruleCase{
		{name: "first pull without ecr:CreateRepository fails", facts: firstPull, status: Fail,
			msg: "Execution role " + ixRoleARN + " may not ecr:CreateRepository on " + ptcRepoARN + " (no policy allows it): repository docker-hub/library/nginx does not exist yet",
			check: both(adviceHas(`"Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],"Resource":"arn:aws:ecr:eu-west-1:111122223333:repository/docker-hub/*"`),
				evidenceHas(`"cacheRule":"docker-hub"`, `"repositoryExists":false`, `"upstream":"registry-1.docker.io"`, ptcCred))},
		{name: "first pull with both permissions passes", facts: granted(firstPull), status: Pass, msg: ptcImage + " can be imported on this pull",
			check: evidenceHas("ecr:CreateRepository on "+ptcRepoARN, "ecr:BatchImportUpstreamImage on "+ptcRepoARN)},
		{name: "uncached tag in an existing cache repository needs the import only", facts: with(firstPull, ptcCachedRepo), status: Fail,
			msg: "may not ecr:BatchImportUpstreamImage on " + ptcRepoARN + " (no policy allows it): " + ptcImage + " is not cached yet",
			check: func(t *testing.T, fd Finding) {
				if b, _ := json.Marshal(fd.Evidence); strings.Contains(string(b), "ecr:CreateRepository") {
					t.Errorf("CreateRepository judged for an existing repository: %s", b)
				}
			}},
		{name: "import allowed without CreateRepository passes for an existing repository", facts: with(firstPull, ixThen(ptcCachedRepo, ixInline(`{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchImportUpstreamImage"],"Resource":"*"}]}`))), status: Pass},
		{name: "explicit deny names the statement", facts: with(firstPull, ixInline(`{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"ecr:*","Resource":"*"},
{"Sid":"NoNewRepos","Effect":"Deny","Action":"ecr:CreateRepository","Resource":"*"}]}`)), status: Fail,
			msg: "explicitly denied by inline policy pull, statement NoNewRepos", check: adviceHas("Remove or narrow statement NoNewRepos")},
		{name: "missing credential secret fails", facts: with(granted(firstPull), func(f *account.Facts) { f.Secrets.SecretsManager = nil }), status: Fail,
			msg:   "The upstream credential secret " + ptcCred + ` of pull-through cache rule "docker-hub" (upstream registry-1.docker.io) does not exist`,
			check: adviceHas("aws ecr update-pull-through-cache-rule --ecr-repository-prefix docker-hub --credential-arn NEW_SECRET_ARN --region eu-west-1")},
		{name: "credential secret scheduled for deletion fails", facts: with(granted(firstPull), func(f *account.Facts) {
			f.Secrets.SecretsManager[0].DeletedDate = aws.Time(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
		}), status: Fail, msg: "is scheduled for deletion (2026-03-20T00:00:00Z)", check: adviceHas("aws secretsmanager restore-secret --secret-id " + ptcCred)},
		{name: "a proven fail outranks an unread secret", facts: with(failedRead(firstPull, account.SrcSecrets), func(f *account.Facts) { f.Secrets.SecretsManager = nil }),
			status: Fail, msg: "may not ecr:CreateRepository"},
		{name: "unread credential secret is an error", facts: with(failedRead(granted(firstPull), account.SrcSecrets), func(f *account.Facts) { f.Secrets.SecretsManager = nil }),
			status: Error, msg: "secrets: AccessDenied"},
		{name: "unread cache rules are an error", facts: failedRead(firstPull, account.SrcPullThroughCache), status: Error, msg: "ecr:pull-through-cache-rules: AccessDenied"},
		{name: "unread repository is an error", facts: with(failedRead(firstPull, account.SrcRepository), func(f *account.Facts) {}), status: Error, msg: "ecr:repository: AccessDenied"},
		{name: "no execution role cannot be judged", facts: with(granted(firstPull), func(f *account.Facts) { f.ECS.TaskDefinitions[0].ExecutionRoleArn = nil }),
			status: Skip, msg: "the import permissions cannot be judged: the task definition has no execution role"},
		{name: "cached image skips", facts: with(firstPull, ixThen(ptcCachedRepo, func(f *account.Facts) {
			f.ECR.Images["docker-hub/library/nginx"][0].ImageTags = []string{"1.27"}
		})), status: Skip, msg: "cached or under no cache rule"},
		{name: "rule of another registry does not cover", facts: with(firstPull, func(f *account.Facts) {
			for i := range f.ECR.PullThroughCacheRules {
				f.ECR.PullThroughCacheRules[i].RegistryId = aws.String(ixOther)
			}
		}), status: Skip},
		{name: "image under no cache rule skips", facts: ixFacts, status: Skip},
	})
}
