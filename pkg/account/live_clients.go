package account

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// The narrow client interfaces: only the reads Live makes. The SDK's
// *APIClient interfaces are the ones its paginators take.

// ECSAPI is the part of the ECS client Live uses.
type ECSAPI interface {
	ecs.DescribeTasksAPIClient
	ecs.DescribeServicesAPIClient
	DescribeClusters(context.Context, *ecs.DescribeClustersInput, ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	DescribeContainerInstances(context.Context, *ecs.DescribeContainerInstancesInput, ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error)
}

// EC2API is the part of the EC2 client Live uses.
type EC2API interface {
	ec2.DescribeSubnetsAPIClient
	ec2.DescribeNetworkInterfacesAPIClient
	ec2.DescribeDhcpOptionsAPIClient
	ec2.DescribeVpcsAPIClient
	ec2.DescribeRouteTablesAPIClient
	ec2.DescribeNatGatewaysAPIClient
	ec2.DescribeInternetGatewaysAPIClient
	ec2.DescribeVpcEndpointsAPIClient
	ec2.DescribeSecurityGroupsAPIClient
	ec2.DescribeNetworkAclsAPIClient
	ec2.DescribePrefixListsAPIClient
	ec2.DescribeInstancesAPIClient
	DescribeVpcAttribute(context.Context, *ec2.DescribeVpcAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeVpcAttributeOutput, error)
}

// IAMAPI is the part of the IAM client Live uses.
type IAMAPI interface {
	iam.GetRoleAPIClient
	iam.ListAttachedRolePoliciesAPIClient
	iam.ListRolePoliciesAPIClient
	iam.GetPolicyAPIClient
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	// ListPolicies is read one page only (see listPolicies), so no paginator.
	ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error)
}

// ECRAPI is the part of the ECR client Live uses.
type ECRAPI interface {
	ecr.DescribeRepositoriesAPIClient
	ecr.DescribeImagesAPIClient
	ecr.DescribePullThroughCacheRulesAPIClient
	BatchGetImage(context.Context, *ecr.BatchGetImageInput, ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error)
	GetRepositoryPolicy(context.Context, *ecr.GetRepositoryPolicyInput, ...func(*ecr.Options)) (*ecr.GetRepositoryPolicyOutput, error)
}

// SecretsManagerAPI is the part of the Secrets Manager client Live uses.
type SecretsManagerAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

// SSMAPI is the part of the SSM client Live uses.
type SSMAPI interface {
	ssm.DescribeParametersAPIClient
}

// Clients builds the clients Live reads through, each from a config already
// set to the region to read. Tests replace one to fake a service.
type Clients struct {
	ECS            func(aws.Config) ECSAPI
	EC2            func(aws.Config) EC2API
	IAM            func(aws.Config) IAMAPI
	ECR            func(aws.Config) ECRAPI
	SecretsManager func(aws.Config) SecretsManagerAPI
	SSM            func(aws.Config) SSMAPI
}

// DefaultClients returns the SDK clients.
func DefaultClients() Clients {
	return Clients{
		ECS:            func(c aws.Config) ECSAPI { return ecs.NewFromConfig(c) },
		EC2:            func(c aws.Config) EC2API { return ec2.NewFromConfig(c) },
		IAM:            func(c aws.Config) IAMAPI { return iam.NewFromConfig(c) },
		ECR:            func(c aws.Config) ECRAPI { return ecr.NewFromConfig(c) },
		SecretsManager: func(c aws.Config) SecretsManagerAPI { return secretsmanager.NewFromConfig(c) },
		SSM:            func(c aws.Config) SSMAPI { return ssm.NewFromConfig(c) },
	}
}
