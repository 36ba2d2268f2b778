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
	})
}
