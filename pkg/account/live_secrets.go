package account

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// maxParameterNames is the most values one DescribeParameters filter takes.
const maxParameterNames = 50

// secretReads read the secrets ECS fetches before the task starts: one
// DescribeSecret per Secrets Manager secret, one DescribeParameters per region
// for the SSM parameters. A secret that does not exist is absent, not a failure.
func (c *collector) secretReads(td *ecstypes.TaskDefinition) []read {
	var reads []read
	secrets := map[string]bool{}
	params := map[string][]string{} // region → parameter names
	for _, ref := range secretRefs(td) {
		a, err := arn.Parse(ref)
		switch {
		case err == nil && a.Service == "secretsmanager":
			id, region := secretID(a), cmp.Or(a.Region, c.region)
			if !secrets[id] {
				secrets[id] = true
				reads = append(reads, leaf(func(ctx context.Context) { c.describeSecret(ctx, region, id) }))
			}
		case err == nil && a.Service == "ssm":
			region := cmp.Or(a.Region, c.region)
			params[region] = append(params[region], parameterName(a.Resource))
		default: // a bare name is an SSM parameter of the task's region
			params[c.region] = append(params[c.region], ref)
		}
	}
	for region, names := range params {
		for chunk := range slices.Chunk(names, maxParameterNames) {
			reads = append(reads, leaf(func(ctx context.Context) { c.describeParameters(ctx, region, chunk) }))
		}
	}
	return reads
}

// secretRefs lists, once each, the valueFrom ARNs and names of the secrets,
// log driver secrets and registry credentials of the task definition.
func secretRefs(td *ecstypes.TaskDefinition) []string {
	var refs []string
	for _, cd := range td.ContainerDefinitions {
		if rc := cd.RepositoryCredentials; rc != nil {
			refs = append(refs, aws.ToString(rc.CredentialsParameter))
		}
		for _, s := range cd.Secrets {
			refs = append(refs, aws.ToString(s.ValueFrom))
		}
		if lc := cd.LogConfiguration; lc != nil {
			for _, s := range lc.SecretOptions {
				refs = append(refs, aws.ToString(s.ValueFrom))
			}
		}
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	return slices.DeleteFunc(refs, func(r string) bool { return r == "" })
}

// secretID drops the ":json-key:version-stage:version-id" a valueFrom may add to a secret ARN.
func secretID(a arn.ARN) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(a.Resource, "secret:"), ":")
	a.Resource = "secret:" + name
	return a.String()
}

// parameterName turns an ARN resource "parameter/a/b" into "/a/b" and "parameter/x" into "x".
func parameterName(resource string) string {
	name := strings.TrimPrefix(resource, "parameter")
	if strings.Count(name, "/") == 1 {
		return name[1:]
	}
	return name
}

func (c *collector) describeSecret(ctx context.Context, region, id string) {
	out, err := c.l.clients.SecretsManager(c.l.regional(region)).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if !c.check(SrcSecrets, "secretsmanager:DescribeSecret "+id, err, "ResourceNotFoundException") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.f.Secrets.SecretsManager = append(c.f.Secrets.SecretsManager, smtypes.SecretListEntry{
		ARN: out.ARN, Name: out.Name, Description: out.Description, KmsKeyId: out.KmsKeyId,
		CreatedDate: out.CreatedDate, DeletedDate: out.DeletedDate, LastAccessedDate: out.LastAccessedDate,
		LastChangedDate: out.LastChangedDate, LastRotatedDate: out.LastRotatedDate, NextRotationDate: out.NextRotationDate,
		OwningService: out.OwningService, PrimaryRegion: out.PrimaryRegion, Type: out.Type, Tags: out.Tags,
		RotationEnabled: out.RotationEnabled, RotationLambdaARN: out.RotationLambdaARN, RotationRules: out.RotationRules,
		ExternalSecretRotationMetadata: out.ExternalSecretRotationMetadata, ExternalSecretRotationRoleArn: out.ExternalSecretRotationRoleArn,
		SecretVersionsToStages: out.VersionIdsToStages,
	})
}

func (c *collector) describeParameters(ctx context.Context, region string, names []string) {
	client := c.l.clients.SSM(c.l.regional(region))
	params, err := allPages(ctx, ssm.NewDescribeParametersPaginator(client, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Equals"), Values: names}},
		MaxResults:       c.l.maxResults(),
	}), func(o *ssm.DescribeParametersOutput) []ssmtypes.ParameterMetadata { return o.Parameters })
	if !c.check(SrcSecrets, "ssm:DescribeParameters", err) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.f.Secrets.SSMParameters = append(c.f.Secrets.SSMParameters, params...)
}

func (c *collector) sortSecrets() {
	sortBy(c.f.Secrets.SecretsManager, func(s smtypes.SecretListEntry) *string { return s.ARN })
	sortBy(c.f.Secrets.SSMParameters, func(p ssmtypes.ParameterMetadata) *string { return p.Name })
}
