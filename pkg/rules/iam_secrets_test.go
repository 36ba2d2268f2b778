package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

func TestIAMSecrets(t *testing.T) {
	const (
		keyID    = "1234abcd-12ab-34cd-56ef-1234567890ab"
		keyARN   = "arn:aws:kms:eu-west-1:111122223333:key/" + keyID
		paramARN = "arn:aws:ssm:eu-west-1:111122223333:parameter/app/db"
		readAll  = `{"Statement":[{"Sid":"Read","Effect":"Allow","Action":["secretsmanager:GetSecretValue","ssm:GetParameters","kms:Decrypt"],"Resource":"*"}]}`
		readOnly = `{"Statement":[{"Sid":"Read","Effect":"Allow","Action":["secretsmanager:GetSecretValue","ssm:GetParameters"],"Resource":"*"}]}`
	)
	secret := func(valueFrom string) func(*account.Facts) {
		return func(f *account.Facts) {
			ixContainer(f).Secrets = []ecstypes.Secret{{Name: aws.String("DB"), ValueFrom: aws.String(valueFrom)}}
		}
	}
	stored := func(kmsKey string) func(*account.Facts) {
		return func(f *account.Facts) {
			f.Secrets.SecretsManager = []smtypes.SecretListEntry{{ARN: aws.String(ixSecret), Name: aws.String("db"), KmsKeyId: aws.String(kmsKey)}}
		}
	}
	param := func(keyID string) func(*account.Facts) {
		return func(f *account.Facts) {
			f.Secrets.SSMParameters = []ssmtypes.ParameterMetadata{{Name: aws.String("/app/db"), KeyId: aws.String(keyID)}}
		}
	}
	sm := func(valueFrom, kmsKey, policy string) func() *account.Facts {
		return with(ixFacts, ixThen(secret(valueFrom), stored(kmsKey), ixInline(policy)))
	}
	runRuleCases(t, IAMSecrets, []ruleCase{
		{name: "no secrets skips", facts: ixFacts, status: Skip, msg: "no container uses secrets"},
		{name: "readable secret passes", facts: sm(ixSecret, "", readOnly), status: Pass, msg: "may read the 1 secret(s)",
			check: evidenceHas(`"secretsmanager:GetSecretValue on ` + ixSecret + `":{"decision":"Allow","policy":"inline policy pull","statement":"Read"`)},
		{name: "AWS managed execution policy does not read secrets", facts: with(ixFacts, ixThen(secret(ixSecret), stored(""))), status: Fail,
			msg:   "may not secretsmanager:GetSecretValue on " + ixSecret + ", needed for secret DB of container api (no policy allows it)",
			check: adviceHas(`aws iam put-role-policy --role-name ecsTaskExecutionRole --policy-name task-secrets --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + ixSecret + `"}]}'`)},
		{name: "json key suffix is stripped", facts: sm(ixSecret+":password::", "alias/aws/secretsmanager", `{"Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+ixSecret+`"}}`), status: Pass},
		{name: "partial ARN finds the secret", facts: sm("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db", "", `{"Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:db-??????"}}`), status: Pass},
		{name: "customer key needs kms:Decrypt", facts: sm(ixSecret, keyID, readOnly), status: Fail, msg: "may not kms:Decrypt on " + keyARN},
		{name: "customer key ARN readable passes", facts: sm(ixSecret, keyARN, readAll), status: Pass, check: evidenceHas("kms:Decrypt on " + keyARN)},
		{name: "custom alias cannot be resolved so warns", facts: sm(ixSecret, "alias/app", readOnly), status: Warn, msg: "kms:Decrypt on arn:aws:kms:eu-west-1:111122223333:alias/app"},
		{name: "explicit deny fails", facts: sm(ixSecret, "", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoSecrets","Effect":"Deny","Action":"secretsmanager:*","Resource":"*"}]}`),
			status: Fail, msg: "explicitly denied by inline policy pull, statement NoSecrets", check: adviceHas("Remove or narrow statement NoSecrets in inline policy pull")},
		{name: "SSM parameter name passes", facts: with(ixFacts, ixThen(secret("/app/db"), param("alias/aws/ssm"), ixInline(`{"Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:eu-west-1:111122223333:parameter/app/*"}}`))),
			status: Pass, check: evidenceHas("ssm:GetParameters on " + paramARN)},
		{name: "SSM parameter ARN not allowed fails", facts: with(ixFacts, ixThen(secret(paramARN), param(""), ixInline(`{"Statement":{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*"}}`))),
			status: Fail, msg: "may not ssm:GetParameters on " + paramARN},
		{name: "repository credentials are checked", facts: with(ixFacts, ixThen(stored(""), func(f *account.Facts) {
			ixContainer(f).RepositoryCredentials = &ecstypes.RepositoryCredentials{CredentialsParameter: aws.String(ixSecret)}
		})), status: Fail, msg: "needed for repositoryCredentials of container api"},
		{name: "log driver secret options are checked", facts: with(ixFacts, ixThen(stored(""), func(f *account.Facts) {
			ixContainer(f).LogConfiguration.SecretOptions = []ecstypes.Secret{{Name: aws.String("apiKey"), ValueFrom: aws.String(ixSecret)}}
		})), status: Fail, msg: "needed for log option apiKey of container api"},
		{name: "secret not collected is an error", facts: with(ixFacts, secret(ixSecret)), status: Error, msg: "secret " + ixSecret + " not found"},
		{name: "parameter not collected is an error", facts: with(ixFacts, secret("app/db")), status: Error, msg: "SSM parameter " + paramARN + " not found"},
		{name: "empty valueFrom is an error", facts: with(ixFacts, secret("")), status: Error, msg: "secret DB of container api: empty valueFrom"},
		{name: "failed secrets read is an error", facts: failedRead(sm(ixSecret, "", readOnly), account.SrcSecrets), status: Error, msg: "secrets: AccessDenied"},
		{name: "no execution role skips to iam.execution-role", facts: with(sm(ixSecret, "", readOnly), func(f *account.Facts) { f.ECS.TaskDefinitions[0].ExecutionRoleArn = nil }),
			status: Skip, msg: "iam.execution-role judges whether it needs one"},
	})
}
