package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

func TestImageRepository(t *testing.T) {
	noRepos := func(f *account.Facts) { f.ECR.Repositories = nil }
	runRuleCases(t, ImageRepository, []ruleCase{
		{name: "existing repository passes", facts: ixFacts, status: Pass, msg: ixImage, check: evidenceHas(ixRepoARN)},
		{name: "missing repository fails", facts: with(ixFacts, noRepos), status: Fail,
			msg:   "Repository team/api does not exist in registry 111122223333 (eu-west-1), so container api (" + ixImage + ") cannot be pulled",
			check: both(adviceHas("aws ecr create-repository --repository-name team/api --region eu-west-1"), evidenceHas(`"container":"api"`))},
		{name: "same name in another account does not count", facts: with(ixFacts, ixThen(ixSetImage(ixXImage), func(f *account.Facts) {
			f.ECR.Repositories = append(f.ECR.Repositories, ecrtypes.Repository{RepositoryName: aws.String("shared/base"), RegistryId: aws.String(ixAccount)})
		})), status: Fail, msg: "Repository shared/base does not exist in registry 444455556666"},
		{name: "repository in its registry account passes", facts: with(ixFacts, ixThen(ixSetImage(ixXImage), func(f *account.Facts) {
			f.ECR.Repositories = append(f.ECR.Repositories, ecrtypes.Repository{RepositoryName: aws.String("shared/base"), RegistryId: aws.String(ixOther)})
		})), status: Pass, check: evidenceHas(ixXRepo)},
		{name: "failed container is judged first", facts: with(ixFacts, ixThen(noRepos, ixAddContainer("sidecar", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/side:1"),
			func(f *account.Facts) { f.Task.FailedContainer = "sidecar" })), status: Fail, msg: "Repository side does not exist"},
		{name: "missing after a failed read is an error", facts: with(failedRead(ixFacts, account.SrcRepository), noRepos), status: Error, msg: "ecr:repository: AccessDenied"},
		{name: "unparsable image is an error", facts: with(ixFacts, ixSetImage("Bad Image!")), status: Error, msg: `the image of container api (Bad Image!) cannot be parsed`},
		{name: "public images skip", facts: with(ixFacts, ixSetImage("public.ecr.aws/nginx/nginx:1")), status: Skip},
		{name: "missing repository under a cache rule defers to image.pull-through-cache", facts: with(ixFacts, ptcFirstPull), status: Skip,
			msg:   `Repository docker-hub/library/nginx (pull-through cache rule "docker-hub" (upstream registry-1.docker.io)) does not exist yet and is created by the cache on the first pull; image.pull-through-cache judges`,
			check: evidenceHas(`"pullThroughCache":["docker-hub/library/nginx`)},
		{name: "a deferred image beside an existing repository passes", facts: with(ixFacts, ixThen(ixAddContainer("proxy", ptcImage), ptcFirstPull, ixSetImage(ixImage))),
			status: Pass, msg: "The ECR repositories of " + ixImage + " exist. Repository docker-hub/library/nginx", check: evidenceHas(ixRepoARN, `"pullThroughCache"`)},
		{name: "a repository outside every cache prefix still fails", facts: with(ixFacts, ixThen(ptcFirstPull, ixSetImage("111122223333.dkr.ecr.eu-west-1.amazonaws.com/quay/coreos/etcd:3"))),
			status: Fail, msg: "Repository quay/coreos/etcd does not exist"},
		{name: "unread cache rules leave the fail and say so", facts: with(failedRead(ixFacts, account.SrcPullThroughCache), noRepos), status: Fail,
			msg: "Repository team/api does not exist", check: both(adviceHas("see image.pull-through-cache: its rules could not be read"),
				evidenceHas(`"pullThroughCacheRules":"could not be read: ecr:pull-through-cache-rules: AccessDenied`))},
	})
}
