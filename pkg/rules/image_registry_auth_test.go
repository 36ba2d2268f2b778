package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

func TestImageRegistryAuth(t *testing.T) {
	const private = "ghcr.io/acme/api:3"
	unauthorized := ixReason("CannotPullContainerError: failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized", event.ClassIAM)
	creds := func(f *account.Facts) {
		ixContainer(f).RepositoryCredentials = &ecstypes.RepositoryCredentials{CredentialsParameter: aws.String(ixSecret)}
	}
	secretExists := func(f *account.Facts) {
		f.Secrets.SecretsManager = []smtypes.SecretListEntry{{ARN: aws.String(ixSecret), Name: aws.String("db")}}
	}
	runRuleCases(t, ImageRegistryAuth, []ruleCase{
		{name: "refused pull without credentials fails", facts: with(ixFacts, ixThen(ixSetImage(private), unauthorized)), status: Fail,
			msg:   "Registry ghcr.io refused the pull of container api (ghcr.io/acme/api:3), which has no repositoryCredentials",
			check: both(adviceHas(`aws secretsmanager create-secret --name ghcr-io-registry`), evidenceHas("401 Unauthorized"))},
		{name: "credentials with an existing secret pass", facts: with(ixFacts, ixThen(ixSetImage(private), creds, secretExists)), status: Pass,
			msg: "secret " + ixSecret + " exists", check: evidenceHas(`"credentialsParameter":"` + ixSecret)},
		{name: "credentials naming a missing secret fail", facts: with(ixFacts, ixThen(ixSetImage(private), creds)), status: Fail,
			msg: "Secret " + ixSecret + " named by the repositoryCredentials of container api does not exist"},
		{name: "rejected credentials fail", facts: with(ixFacts, ixThen(ixSetImage(private), creds, secretExists, unauthorized)), status: Fail,
			msg: "Registry ghcr.io rejected the credentials in secret " + ixSecret, check: adviceHas("aws secretsmanager put-secret-value --secret-id " + ixSecret)},
		{name: "secret retrieval errors are iam.secrets'", facts: with(ixFacts, ixThen(ixSetImage(private), creds, secretExists,
			ixReason("ResourceInitializationError: unable to pull secrets or registry auth: AccessDeniedException: access denied", event.ClassIAM))), status: Pass},
		{name: "refused pull with the task definition unread is an error", facts: failedRead(with(ixFacts, ixThen(ixSetImage(private), unauthorized,
			func(f *account.Facts) { f.ECS.TaskDefinitions = nil })), account.SrcTaskDefinition), status: Error, msg: "ecs:task-definition: AccessDenied"},
		{name: "failed secrets read is an error", facts: failedRead(with(ixFacts, ixThen(ixSetImage(private), creds)), account.SrcSecrets), status: Error, msg: "secrets: AccessDenied"},
		{name: "pull-through cache upstream failure fails", facts: with(ixFacts, ixThen(ixSetImage("111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1"),
			ixReason("CannotPullContainerError: UnableToGetUpstreamImageException: unable to pull upstream image", event.ClassRegistry))), status: Fail,
			msg: "pull-through cache rule for prefix docker-hub", check: adviceHas("aws ecr describe-pull-through-cache-rules --ecr-repository-prefixes docker-hub")},
		{name: "Docker Hub official image denied is not an auth problem", facts: with(ixFacts, ixThen(ixSetImage("nginx:1"),
			ixReason("pull access denied for nginx, repository does not exist or may require 'docker login'", event.ClassImage))), status: Skip},
		{name: "every container's credentials are checked", facts: with(ixFacts, ixThen(ixSetImage(private), creds, secretExists,
			ixAddContainer("agent", "quay.io/acme/agent:1"), func(f *account.Facts) {
				f.ECS.TaskDefinitions[0].ContainerDefinitions[1].RepositoryCredentials = &ecstypes.RepositoryCredentials{CredentialsParameter: aws.String("agent-creds")}
			})), status: Fail, msg: "Secret agent-creds named by the repositoryCredentials of container agent does not exist"},
		{name: "private registry that did not refuse skips", facts: with(ixFacts, ixSetImage(private)), status: Skip},
		{name: "ECR images skip", facts: with(ixFacts, unauthorized), status: Skip},
	})
}
