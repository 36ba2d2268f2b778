package rules

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// NetworkTaskSGEgress: the task's security groups let TCP 443 out to where the pull goes.
var NetworkTaskSGEgress = Rule{
	ID:          "network.task-sg-egress",
	Title:       "task security group blocks outbound HTTPS",
	Severity:    High,
	Summary:     "The task's security groups allow outbound TCP 443 to the internet (internet path), or to the endpoints and the S3 prefix list (endpoint path)",
	Remediation: "Allow outbound TCP 443 from the task's security group to where the pull goes.",
	Needs:       destNeeds(account.SrcSecurityGroups, account.SrcService, account.SrcEndpointSubnets),
	Action:      ActionAllowEgress,
	Check:       checkTaskSGEgress,
}

func checkTaskSGEgress(f *account.Facts) Finding {
	p, err := analyzePath(f)
	if err != nil {
		return pathError(err)
	}
	ev := p.evidence()
	o := p.Origin
	taskSGs := o.Groups
	if len(taskSGs) == 0 && o.onHost() {
		return Finding{Status: Fail, Evidence: ev, Message: fmt.Sprintf("Instance %s has no security group, so nothing lets its outbound TCP 443 out.", aws.ToString(o.Instance.InstanceId)),
			Advice: "Give the instance a security group that allows outbound TCP 443. " + hostManualOnly}
	}
	if len(taskSGs) == 0 {
		return Finding{Status: Error, Evidence: ev, Message: "could not be evaluated: the task's security groups are unknown (" + taskSGsUnknown(f) + ")"}
	}
	groups, err := securityGroups(f, taskSGs)
	if err != nil {
		return Finding{Status: Error, Evidence: ev, Message: "could not be evaluated: " + err.Error()}
	}
	dests := pullDestinations(f, p)
	if len(dests) == 0 {
		return Finding{Status: Skip, Evidence: ev, Message: fmt.Sprintf("%s has nowhere to pull from in this VPC; network.vpc-endpoints reports why.", o.whoTitle())}
	}
	var allowed, blocked, advice []string
	var destinations []Destination
	for _, d := range dests {
		if how, ok := sgAllows(f, groups, true, d.Peer); ok {
			allowed = append(allowed, d.Name+": "+how)
			continue
		}
		blocked = append(blocked, d.Name)
		var dest Destination
		var peer string
		switch {
		case d.Endpoint != nil && len(d.Peer.Groups) > 0:
			dest, peer = Destination{GroupID: d.Peer.Groups[0]}, fmt.Sprintf("UserIdGroupPairs=[{GroupId=%s}]", d.Peer.Groups[0])
		case d.Peer.PrefixList != "":
			dest, peer = Destination{PrefixListID: d.Peer.PrefixList}, fmt.Sprintf("PrefixListIds=[{PrefixListId=%s}]", d.Peer.PrefixList)
		case d.internet() && p.Kind == routeInternet:
			dest, peer = Destination{CIDR: anyIPv4.String()}, "IpRanges=[{CidrIp=0.0.0.0/0}]"
		default:
			continue
		}
		// Endpoints often share one group: one rule serves them all.
		if cmd := authorizeCommand("egress", taskSGs[0], peer); !Contains(advice, cmd) {
			advice = append(advice, cmd)
			destinations = append(destinations, dest)
		}
	}
	ev[o.groupsKey()] = taskSGs
	if len(allowed) > 0 {
		ev["allowed"] = allowed
	}
	if len(blocked) == 0 {
		return Finding{Status: Pass, Evidence: ev, Message: o.groupsText() + " allow outbound TCP 443 to every place the pull goes."}
	}
	ev["blocked"] = blocked
	if lists := uncollectedPrefixLists(f, groups, true); len(lists) > 0 {
		return uncollectedWarning(ev, lists, fmt.Sprintf("%s let TCP 443 out to %s", o.groupsText(), strings.Join(blocked, ", ")))
	}
	fd := Finding{Status: Fail, Evidence: ev,
		Message: fmt.Sprintf("%s allow no outbound TCP 443 to %s.", o.groupsText(), strings.Join(blocked, ", "))}
	switch {
	case len(destinations) > 0 && o.onHost():
		fd.Advice = fmt.Sprintf("Allow %s's outbound HTTPS: %s. %s", o.who(), strings.Join(advice, "; "), hostManualOnly)
	case len(destinations) > 0:
		fd.Fix = &Fix{Action: ActionAllowEgress, Target: taskSGs[0], AutoFixable: true,
			Params: &Params{GroupID: taskSGs[0], Destinations: destinations}}
		fd.Advice = "Allow the task's outbound HTTPS: " + strings.Join(advice, "; ")
	}
	return fd
}

// taskSGsUnknown says why the task's security groups are not known.
func taskSGsUnknown(f *account.Facts) string {
	if reason := f.Err(account.SrcNetworkInterfaces); reason != "" {
		return reason
	}
	return fmt.Sprintf("no service network configuration and ENI %s is gone", f.Task.ENIID)
}
