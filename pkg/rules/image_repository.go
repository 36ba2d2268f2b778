package rules

import (
	"fmt"
	"strings"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// ImageRepository: the ECR repository of each private ECR image exists.
var ImageRepository = Rule{
	ID:       "image.repository",
	Title:    "ECR repository not found",
	Severity: High,
	Summary:  "The ECR repository named by each image URI exists in its registry account and region",
	Remediation: "Create the repository and push the image, or fix the image URI in the task definition: " +
		"aws ecr create-repository --repository-name REPO",
	Check: checkRepository,
}

func checkRepository(f *account.Facts) Finding {
	var found, existing, deferred []string
	for _, c := range containerImages(f) {
		if c.RefErr != nil {
			return Finding{Status: Error, Message: fmt.Sprintf("the image of %s cannot be parsed: %v", c.label(), c.RefErr)}
		}
		if !c.Ref.IsECR() {
			if fd, near := nearMiss(f, c); near {
				return fd
			}
			continue
		}
		if f.Repository(account.RepoOf(c.Ref)) != nil {
			found, existing = append(found, repositoryARN(f, c.Ref)), append(existing, c.Image)
			continue
		}
		if fd, failed := readFailed(f, account.SrcRepository); failed {
			return fd
		}
		// A pull-through cache creates the repository on the first pull
		// ("ecr:CreateRepository ... is required if the repository storing the
		// cached images doesn't already exist": Amazon ECR User Guide, "IAM
		// permissions required to sync an upstream registry"): its absence is
		// no fault, and creating it by hand is not the fix.
		if rule := cacheRuleOf(f, c.Ref); rule != nil {
			deferred = append(deferred, fmt.Sprintf("%s (%s)", c.Ref.Repository, cacheRuleLabel(rule)))
			continue
		}
		fd := Finding{Status: Fail, Evidence: map[string]any{"image": c.Image, "container": c.Name, "repository": repositoryARN(f, c.Ref)},
			Message: fmt.Sprintf("Repository %s does not exist in registry %s (%s), so %s cannot be pulled.", c.Ref.Repository, c.Ref.ECRAccount, c.Ref.ECRRegion, c.label()),
			Advice: fmt.Sprintf("Fix the image URI in the task definition, or create the repository and push the image: aws ecr create-repository --repository-name %s --region %s (in account %s).",
				c.Ref.Repository, c.Ref.ECRRegion, c.Ref.ECRAccount),
		}
		// Unknown cache rules do not turn a missing repository into an error
		// here: image.pull-through-cache reports the failed read.
		if msg := f.Err(account.SrcPullThroughCache); msg != "" {
			fd.Evidence["pullThroughCacheRules"] = "could not be read: " + msg
			fd.Advice += " If a pull-through cache rule should create it, see image.pull-through-cache: its rules could not be read."
		}
		return fd
	}
	waiting := "Repository " + strings.Join(deferred, ", ") + " does not exist yet and is created by the cache on the first pull; image.pull-through-cache judges that pull."
	switch {
	case len(found) == 0 && len(deferred) == 0:
		return Finding{Status: Skip, Message: "no container image is in private ECR"}
	case len(found) == 0:
		return Finding{Status: Skip, Evidence: map[string]any{"pullThroughCache": deferred}, Message: waiting}
	}
	fd := Finding{Status: Pass, Evidence: map[string]any{"repositories": found},
		Message: fmt.Sprintf("The ECR repositories of %s exist.", strings.Join(existing, ", "))}
	if len(deferred) > 0 {
		fd.Evidence["pullThroughCache"], fd.Message = deferred, fd.Message+" "+waiting
	}
	return fd
}

// nearMiss judges an image outside private ECR that most likely meant an ECR
// image (event.NearECR). A misspelled ECR host fails by its spelling: no
// registry answers there. A name without a registry went to Docker Hub,
// which is right for most such names, so it fails only as the failed
// container, on a stop reason saying the image is not there, while an ECR
// repository of that name exists in the task's own registry.
func nearMiss(f *account.Facts, c containerImage) (Finding, bool) {
	nm, ok := event.NearECR(c.Ref, taskAccount(f), taskRegion(f))
	if !ok {
		return Finding{}, false
	}
	meant := nm.Meant
	repo := f.Repository(account.RepoOf(meant))
	if nm.Implicit {
		if !isFailedContainer(f, c) || f.Task.Class != event.ClassImage {
			return Finding{}, false
		}
		if repo == nil {
			return readFailed(f, account.SrcRepository)
		}
	}
	ev := map[string]any{"image": c.Image, "container": c.Name, "registry": c.Ref.Registry, "meant": meant.Raw}
	var msg string
	if nm.Implicit {
		msg = fmt.Sprintf("The image of %s names no registry, so it was pulled from Docker Hub, while repository %s exists in ECR registry %s (%s): did you mean %s?",
			c.label(), meant.Repository, meant.ECRAccount, meant.ECRRegion, meant.Raw)
	} else {
		msg = fmt.Sprintf("The image of %s names registry %s, which is not an ECR host: did you mean %s?", c.label(), c.Ref.Registry, meant.Raw)
	}
	switch {
	case repo != nil:
		ev["repository"] = repositoryARN(f, meant)
	case f.Err(account.SrcRepository) == "":
		// The collector reads the meant repository of a near miss, and a
		// snapshot lists every repository there is.
		msg += fmt.Sprintf(" Repository %s does not exist there either.", meant.Repository)
	}
	advice := fmt.Sprintf("Register a task definition revision whose image is %s, then ", meant.Raw)
	if f.Task.Service != "" {
		advice += fmt.Sprintf("deploy it: aws ecs update-service --cluster %s --service %s --task-definition NEW_REVISION --region %s.", f.Task.ClusterName(), f.Task.Service, taskRegion(f))
	} else {
		advice += "run the task with it."
	}
	return Finding{Status: Fail, Evidence: ev, Message: msg, Advice: advice}, true
}
