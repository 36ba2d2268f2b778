package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// containerImage is one container of the task with its parsed image.
type containerImage struct {
	Name   string
	Image  string
	Ref    event.ImageRef
	RefErr error
	// Def is the container's definition; nil when the task definition was not collected.
	Def *ecstypes.ContainerDefinition
}

// label names the container and its image for messages.
func (c containerImage) label() string { return fmt.Sprintf("container %s (%s)", c.Name, c.Image) }

// containerImages lists the task's containers, the failed one first. The
// image is the event's (what was pulled), else the task definition's.
func containerImages(f *account.Facts) []containerImage {
	var out []containerImage
	index := map[string]int{}
	if td := f.TaskDefinition(); td != nil {
		for i := range td.ContainerDefinitions {
			d := &td.ContainerDefinitions[i]
			index[aws.ToString(d.Name)] = len(out)
			out = append(out, containerImage{Name: aws.ToString(d.Name), Image: aws.ToString(d.Image), Def: d})
		}
	}
	for _, c := range f.Task.Containers {
		i, ok := index[c.Name]
		if !ok {
			index[c.Name] = len(out)
			out = append(out, containerImage{Name: c.Name, Image: c.Image})
			continue
		}
		if c.Image != "" {
			out[i].Image = c.Image
		}
	}
	for i := range out {
		out[i].Ref, out[i].RefErr = event.ParseImageRef(out[i].Image)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Name == f.Task.FailedContainer && out[j].Name != f.Task.FailedContainer
	})
	return out
}

// ecrImages keeps the containers whose image is in a private ECR registry,
// once per repository (the failed container's first).
func ecrImages(cs []containerImage) []containerImage {
	var out []containerImage
	seen := map[string]bool{}
	for _, c := range cs {
		key := c.Ref.ECRAccount + "/" + c.Ref.ECRRegion + "/" + c.Ref.Repository
		if c.RefErr == nil && c.Ref.IsECR() && !seen[key] {
			seen[key] = true
			out = append(out, c)
		}
	}
	return out
}

// arnField returns field i (0-based, split on ':') of an ARN, or "".
func arnField(arn string, i int) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 || f[0] != "arn" {
		return ""
	}
	return f[i]
}

// taskAccount is the account the task runs in: from its ARN, else the event, else the snapshot.
func taskAccount(f *account.Facts) string {
	return firstNonEmpty(arnField(f.Task.TaskArn, 4), f.Task.Account, f.Account)
}

// taskRegion is the region the task runs in.
func taskRegion(f *account.Facts) string {
	return firstNonEmpty(arnField(f.Task.TaskArn, 3), f.Task.Region, f.Region)
}

// partition is the task's AWS partition ("aws", "aws-cn", ...).
func partition(f *account.Facts) string {
	return firstNonEmpty(arnField(f.Task.TaskArn, 1), "aws")
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// repositoryARN is the ARN IAM evaluates ECR pull actions on.
func repositoryARN(f *account.Facts, r event.ImageRef) string {
	return fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", partition(f), r.ECRRegion, r.ECRAccount, r.Repository)
}

// reasonHas reports whether the pull-failure text contains any of the
// phrases, case-insensitively (stop reasons vary by platform and agent).
func reasonHas(f *account.Facts, phrases ...string) bool {
	reason := strings.ToLower(f.Task.Failure)
	for _, p := range phrases {
		if strings.Contains(reason, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

// taskDefinitionNotFound is the finding when the task definition was not collected.
func taskDefinitionNotFound(f *account.Facts) Finding {
	return Finding{Status: Error, Message: fmt.Sprintf("task definition %s not found in the collected facts", f.Task.TaskDefinitionArn)}
}

// readFailed returns an error finding when any of the reads failed.
func readFailed(f *account.Facts, srcs ...account.Source) (Finding, bool) {
	if msg := f.Err(srcs...); msg != "" {
		return Finding{Status: Error, Message: "could not be evaluated: " + msg}, true
	}
	return Finding{}, false
}

// cacheRuleOf returns the pull-through cache rule whose prefix covers the
// image's repository in its registry, or nil.
func cacheRuleOf(f *account.Facts, r event.ImageRef) *ecrtypes.PullThroughCacheRule {
	return f.ECR.PullThroughCacheRule(r.ECRAccount, r.Repository)
}

// cacheRuleLabel names a pull-through cache rule for messages: its prefix and upstream.
func cacheRuleLabel(r *ecrtypes.PullThroughCacheRule) string {
	return fmt.Sprintf("pull-through cache rule %q (upstream %s)", aws.ToString(r.EcrRepositoryPrefix),
		firstNonEmpty(aws.ToString(r.UpstreamRegistryUrl), string(r.UpstreamRegistry)))
}
