package rules

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
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

		// A registry that is a near miss of the task's ECR registry.
		{name: "misspelled ECR host fails with did you mean", facts: with(ixFacts, ixThen(ixSetImage(typoImage), inService("api"))), status: Fail,
			msg: "The image of container api (" + typoImage + ") names registry 111122223333.dkr.ecr.eu-west-1.amazonaws.con, which is not an ECR host: did you mean " + ixImage + "?",
			check: both(evidenceHas(`"meant":"`+ixImage+`"`, ixRepoARN),
				adviceHas("whose image is "+ixImage+", then deploy it: aws ecs update-service --cluster prod --service api --task-definition NEW_REVISION --region eu-west-1."))},
		{name: "misspelled host whose meant repository is missing says so", facts: with(ixFacts, ixThen(ixSetImage(typoImage), noRepos)), status: Fail,
			msg: "did you mean " + ixImage + "? Repository team/api does not exist there either.", check: adviceHas("run the task with it.")},
		{name: "misspelled host with an unread repository says nothing of it", facts: with(failedRead(ixFacts, account.SrcRepository), ixThen(ixSetImage(typoImage), noRepos)),
			status: Fail, msg: "did you mean " + ixImage + "?", check: func(t *testing.T, fd Finding) {
				if strings.Contains(fd.Message, "does not exist") {
					t.Errorf("message %q claims what the failed read cannot tell", fd.Message)
				}
			}},
		{name: "a name without registry fails when ECR holds it and the registry said not found", facts: with(ixFacts, ixThen(ixSetImage("team/api:1.0"), pullDenied)), status: Fail,
			msg:   "The image of container api (team/api:1.0) names no registry, so it was pulled from Docker Hub, while repository team/api exists in ECR registry 111122223333 (eu-west-1): did you mean " + ixImage + "?",
			check: evidenceHas(`"registry":"docker.io"`)},
		{name: "a name without registry that ECR lacks is Docker Hub's", facts: with(ixFacts, ixThen(ixSetImage("nginx:1.27"), pullDenied)), status: Skip},
		{name: "a name without registry on another stop reason is Docker Hub's", facts: with(ixFacts, ixSetImage("team/api:1.0")), status: Skip},
		{name: "a name without registry in another container is not judged", facts: with(ixFacts, ixThen(ixAddContainer("side", "team/api:1.0"), pullDenied)), status: Pass},
		{name: "a name without registry and an unread repository is an error", facts: with(failedRead(ixFacts, account.SrcRepository), ixThen(ixSetImage("team/api:1.0"), noRepos, pullDenied)),
			status: Error, msg: "ecr:repository: AccessDenied"},
	})
}

const typoImage = "111122223333.dkr.ecr.eu-west-1.amazonaws.con/team/api:1.0"

// pullDenied is Docker Hub's answer for a repository it does not have.
func pullDenied(f *account.Facts) {
	f.Task.Failure = "CannotPullContainerError: pull access denied for team/api, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"
	f.Task.Class = event.ClassImage
}
