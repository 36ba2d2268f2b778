package rules

import (
	"fmt"
	"strings"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// ImageRepository: the ECR repository of each private ECR image exists.
var ImageRepository = Rule{
	ID:       "image.repository",
	Severity: High,
	Summary:  "The ECR repository named by each image URI exists in its registry account and region",
	Remediation: "Create the repository and push the image, or fix the image URI in the task definition: " +
		"aws ecr create-repository --repository-name REPO",
	Check: checkRepository,
}

func checkRepository(f *account.Facts) Finding {
	var found, images []string
	for _, c := range containerImages(f) {
		if c.RefErr != nil {
			return Finding{Status: Error, Message: fmt.Sprintf("the image of %s cannot be parsed: %v", c.label(), c.RefErr)}
		}
		if !c.Ref.IsECR() {
			continue
		}
		images = append(images, c.Image)
		if f.Repository(c.Ref.ECRAccount, c.Ref.Repository) != nil {
			found = append(found, repositoryARN(f, c.Ref))
			continue
		}
		if fd, failed := readFailed(f, account.SrcRepository); failed {
			return fd
		}
		return Finding{Status: Fail, Evidence: map[string]any{"image": c.Image, "container": c.Name, "repository": repositoryARN(f, c.Ref)},
			Message: fmt.Sprintf("Repository %s does not exist in registry %s (%s), so %s cannot be pulled.", c.Ref.Repository, c.Ref.ECRAccount, c.Ref.ECRRegion, c.label()),
			Advice: fmt.Sprintf("Fix the image URI in the task definition, or create the repository and push the image: aws ecr create-repository --repository-name %s --region %s (in account %s).",
				c.Ref.Repository, c.Ref.ECRRegion, c.Ref.ECRAccount),
		}
	}
	if len(images) == 0 {
		return Finding{Status: Skip, Message: "no container image is in private ECR"}
	}
	return Finding{Status: Pass, Evidence: map[string]any{"repositories": found},
		Message: fmt.Sprintf("The ECR repositories of %s exist.", strings.Join(images, ", "))}
}
