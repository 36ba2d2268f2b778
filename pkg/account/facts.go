package account

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// Source names one kind of read. A failed read is recorded against its Source,
// and every rule that needs it reports status "error" instead of guessing.
type Source string

const (
	SrcCluster           Source = "ecs:cluster"
	SrcService           Source = "ecs:service"
	SrcTask              Source = "ecs:task"
	SrcTaskDefinition    Source = "ecs:task-definition"
	SrcSubnet            Source = "ec2:subnet"
	SrcEndpointSubnets   Source = "ec2:endpoint-subnets"
	SrcVPC               Source = "ec2:vpc"
	SrcVPCAttributes     Source = "ec2:vpc-attributes"
	SrcRouteTables       Source = "ec2:route-tables"
	SrcInternetGateways  Source = "ec2:internet-gateways"
	SrcNATGateways       Source = "ec2:nat-gateways"
	SrcVPCEndpoints      Source = "ec2:vpc-endpoints"
	SrcSecurityGroups    Source = "ec2:security-groups"
	SrcNetworkACLs       Source = "ec2:network-acls"
	SrcDHCPOptions       Source = "ec2:dhcp-options"
	SrcNetworkInterfaces Source = "ec2:network-interfaces"
	SrcPrefixLists       Source = "ec2:prefix-lists"
	SrcRole              Source = "iam:role"
	SrcRolePolicies      Source = "iam:role-policies"
	SrcRepository        Source = "ecr:repository"
	SrcImages            Source = "ecr:images"
	SrcRepositoryPolicy  Source = "ecr:repository-policy"
	SrcPullThroughCache  Source = "ecr:pull-through-cache-rules"
	SrcImageManifests    Source = "ecr:image-manifests"
	SrcSecrets           Source = "secrets"
	// The EC2 launch type: the task's host, and the instance behind it.
	SrcContainerInstance Source = "ecs:container-instance"
	SrcInstance          Source = "ec2:instance"
)

// Facts is everything a rule may read: the task from the event, what was
// collected about it, and the reads that failed.
type Facts struct {
	Task *event.Task
	Snapshot
	// Errors maps a failed read to its reason ("AccessDenied: ...").
	Errors map[Source]string
}

// View collects the Facts for one task. Live and snapshot views implement it.
// Collect returns an error only when nothing useful can be collected at all;
// individual read failures go to Facts.Errors.
type View interface {
	Collect(ctx context.Context, t *event.Task) (*Facts, error)
}

// Fail records a failed read.
func (f *Facts) Fail(src Source, err error) {
	if err == nil {
		return
	}
	if f.Errors == nil {
		f.Errors = map[Source]string{}
	}
	f.Errors[src] = err.Error()
}

// Err returns a combined reason if any of the sources failed, else "".
func (f *Facts) Err(srcs ...Source) string {
	var parts []string
	for _, s := range srcs {
		if msg, ok := f.Errors[s]; ok {
			parts = append(parts, fmt.Sprintf("%s: %s", s, msg))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
