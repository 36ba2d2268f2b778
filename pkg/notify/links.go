package notify

import (
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/report"
)

// Link is an AWS console deep link to a resource involved in the failure.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Links returns console links to the service (or task definition family),
// the task's subnet and route table, its security groups and those the fix
// plan targets, and the execution role. rep and f may be nil; each adds what
// it knows.
func Links(region, cluster, group string, rep *report.Report, f *account.Facts) []Link {
	host := "https://" + region + ".console.aws.amazon.com"
	vpc := func(anchor string) string { return host + "/vpcconsole/home?region=" + region + "#" + anchor }
	var links []Link
	if kind, name, _ := strings.Cut(group, ":"); kind == "service" {
		links = append(links, Link{"service " + name, host + "/ecs/v2/clusters/" + url.PathEscape(cluster) + "/services/" + url.PathEscape(name) + "?region=" + region})
	} else if name != "" {
		links = append(links, Link{"task definition " + name, host + "/ecs/v2/task-definitions/" + url.PathEscape(name) + "?region=" + region})
	}
	if rep == nil {
		return links
	}
	subnet := rep.Task.SubnetID
	if subnet != "" {
		links = append(links, Link{"subnet " + subnet, vpc("SubnetDetails:subnetId=" + subnet)})
	}
	if f != nil {
		if rt, _ := f.RouteTableFor(subnet); rt != nil {
			id := aws.ToString(rt.RouteTableId)
			links = append(links, Link{"route table " + id, vpc("RouteTableDetails:RouteTableId=" + id)})
		}
	}
	groups := append([]string{}, rep.Task.SecurityGroups...)
	for _, s := range rep.Plan {
		if strings.HasPrefix(s.Target, "sg-") && !slices.Contains(groups, s.Target) {
			groups = append(groups, s.Target)
		}
	}
	for _, g := range groups {
		links = append(links, Link{"security group " + g, vpc("SecurityGroup:groupId=" + g)})
	}
	if f != nil {
		if td := f.TaskDefinition(); td != nil && td.ExecutionRoleArn != nil {
			arn := *td.ExecutionRoleArn
			name := arn[strings.LastIndex(arn, "/")+1:]
			links = append(links, Link{"role " + name, "https://console.aws.amazon.com/iam/home#/roles/details/" + url.PathEscape(name)})
		}
	}
	return links
}
