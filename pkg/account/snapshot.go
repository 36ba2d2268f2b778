// Package account is pullmedic's view of an AWS account: the Facts a diagnosis reads,
// collected once from a live account or loaded from a pullmedic.snapshot/v1 file.
package account

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SchemaV1 is the snapshot schema this build reads and writes.
const SchemaV1 = "pullmedic.snapshot/v1"

// Snapshot is the pullmedic.snapshot/v1 document. Every element is the AWS SDK
// type of what the API returns, so live collection stores responses as they come.
type Snapshot struct {
	Schema  string         `json:"schema"`
	Account string         `json:"account,omitempty"`
	Region  string         `json:"region,omitempty"`
	ECS     ECSSection     `json:"ecs"`
	EC2     EC2Section     `json:"ec2"`
	IAM     IAMSection     `json:"iam"`
	ECR     ECRSection     `json:"ecr"`
	Secrets SecretsSection `json:"secrets"`
}

type ECSSection struct {
	Clusters        []ecstypes.Cluster        `json:"clusters,omitempty"`
	Services        []ecstypes.Service        `json:"services,omitempty"`
	Tasks           []ecstypes.Task           `json:"tasks,omitempty"`
	TaskDefinitions []ecstypes.TaskDefinition `json:"taskDefinitions,omitempty"`
	// ContainerInstances is the task's EC2 host as ECS sees it (EC2 launch type).
	ContainerInstances []ecstypes.ContainerInstance `json:"containerInstances,omitempty"`
}

// VPCAttributes holds DescribeVpcAttribute answers; nil means the AWS default.
type VPCAttributes struct {
	EnableDnsSupport   *bool `json:"EnableDnsSupport,omitempty"`
	EnableDnsHostnames *bool `json:"EnableDnsHostnames,omitempty"`
}

type EC2Section struct {
	Vpcs              []ec2types.Vpc              `json:"vpcs,omitempty"`
	VpcAttributes     map[string]VPCAttributes    `json:"vpcAttributes,omitempty"`
	Subnets           []ec2types.Subnet           `json:"subnets,omitempty"`
	RouteTables       []ec2types.RouteTable       `json:"routeTables,omitempty"`
	InternetGateways  []ec2types.InternetGateway  `json:"internetGateways,omitempty"`
	NatGateways       []ec2types.NatGateway       `json:"natGateways,omitempty"`
	VpcEndpoints      []ec2types.VpcEndpoint      `json:"vpcEndpoints,omitempty"`
	SecurityGroups    []ec2types.SecurityGroup    `json:"securityGroups,omitempty"`
	NetworkAcls       []ec2types.NetworkAcl       `json:"networkAcls,omitempty"`
	DhcpOptions       []ec2types.DhcpOptions      `json:"dhcpOptions,omitempty"`
	NetworkInterfaces []ec2types.NetworkInterface `json:"networkInterfaces,omitempty"`
	PrefixLists       []ec2types.PrefixList       `json:"prefixLists,omitempty"`
	// Instances is the container instance's EC2 instance (Reservations[].Instances[], flattened).
	Instances []ec2types.Instance `json:"instances,omitempty"`
}

// IAMSection mirrors GetAccountAuthorizationDetails. Policy documents may be
// URL-encoded JSON strings (raw API) or JSON objects (CLI); the loader stores strings.
type IAMSection struct {
	RoleDetailList []iamtypes.RoleDetail          `json:"RoleDetailList,omitempty"`
	Policies       []iamtypes.ManagedPolicyDetail `json:"Policies,omitempty"`
}

type ECRSection struct {
	Repositories       []ecrtypes.Repository             `json:"repositories,omitempty"`
	Images             map[string][]ecrtypes.ImageDetail `json:"images,omitempty"`
	RepositoryPolicies map[string]string                 `json:"repositoryPolicies,omitempty"`
	// PullThroughCacheRules are DescribePullThroughCacheRules answers of the
	// images' registries (registryId tells the account).
	PullThroughCacheRules []ecrtypes.PullThroughCacheRule `json:"pullThroughCacheRules,omitempty"`
	// ImageManifests are BatchGetImage answers by repository: the image index
	// (or manifest list) of a multi-platform image, imageManifest as JSON text.
	ImageManifests map[string][]ecrtypes.Image `json:"imageManifests,omitempty"`
}

// rootPrefix is the ecrRepositoryPrefix of a rule that covers every repository
// no other rule covers.
const rootPrefix = "ROOT"

// PullThroughCacheRule returns the rule of registry registryID that covers
// repository, or nil. A prefix P covers P/... ("there is always an assumed /
// applied to the end of the prefix"), the longest prefix wins, and ROOT covers
// what no other rule does: Amazon ECR User Guide, "Customizing repository
// prefixes for ECR to ECR pull through cache".
func (s ECRSection) PullThroughCacheRule(registryID, repository string) *ecrtypes.PullThroughCacheRule {
	var best *ecrtypes.PullThroughCacheRule
	bestLen := -1
	for i, r := range s.PullThroughCacheRules {
		if id := aws.ToString(r.RegistryId); id != "" && registryID != "" && id != registryID {
			continue
		}
		prefix := strings.TrimSuffix(aws.ToString(r.EcrRepositoryPrefix), "/")
		n := len(prefix)
		switch {
		case prefix == rootPrefix:
			n = 0
		case prefix == "" || !strings.HasPrefix(repository, prefix+"/"):
			continue
		}
		if n > bestLen {
			best, bestLen = &s.PullThroughCacheRules[i], n
		}
	}
	return best
}

type SecretsSection struct {
	SecretsManager []smtypes.SecretListEntry    `json:"secretsManager,omitempty"`
	SSMParameters  []ssmtypes.ParameterMetadata `json:"ssmParameters,omitempty"`
}
