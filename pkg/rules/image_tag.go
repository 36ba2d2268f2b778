package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// recentTags is how many existing tags a failing finding shows.
const recentTags = 5

// ImageTag: the tag or digest of each private ECR image exists.
var ImageTag = Rule{
	ID:       "image.tag",
	Title:    "image tag not found",
	Severity: High,
	Summary:  "The tag or digest of each image exists in its repository",
	Remediation: "Push the image with the tag the task definition names, or point the task definition at an existing tag: " +
		"aws ecr describe-images --repository-name REPO",
	Check: checkTag,
}

func checkTag(f *account.Facts) Finding {
	var checked []string
	nonECR := ""
	for _, c := range containerImages(f) {
		switch {
		case c.RefErr != nil:
			continue // image.repository reports it
		case !c.Ref.IsECR():
			if nonECR == "" && isFailedContainer(f, c) {
				nonECR = c.label()
			}
			continue
		case f.Repository(account.RepoOf(c.Ref)) == nil:
			// Missing, or unread: only a read that worked says which.
			if fd, failed := readFailed(f, account.SrcRepository); failed {
				return fd
			}
			continue // image.repository reports it
		}
		if fd, failed := readFailed(f, account.SrcImages); failed {
			return fd
		}
		details := f.Images(account.RepoOf(c.Ref))
		d := findImage(details, c.Ref)
		if d == nil {
			return Finding{Status: Fail,
				Evidence: map[string]any{"image": c.Image, "container": c.Name, "recentTags": latestTags(details, recentTags)},
				Message:  fmt.Sprintf("%s is not in repository %s, so %s cannot be pulled.", imageVersion(c.Ref), c.Ref.Repository, c.label()),
				Advice: fmt.Sprintf("List what exists: aws ecr describe-images --repository-name %s --registry-id %s --region %s --query 'sort_by(imageDetails,&imagePushedAt)[-5:].[imageTags,imagePushedAt]'; "+
					"then check the tag your deployment wrote into the task definition (a failed push, or a lifecycle policy that expired it).",
					c.Ref.Repository, c.Ref.ECRAccount, c.Ref.ECRRegion),
			}
		}
		if d.ImageStatus == ecrtypes.ImageStatusArchived {
			return Finding{Status: Fail, Evidence: map[string]any{"image": c.Image, "digest": aws.ToString(d.ImageDigest), "imageStatus": string(d.ImageStatus)},
				Message: fmt.Sprintf("%s in repository %s is archived and cannot be pulled until it is restored.", imageVersion(c.Ref), c.Ref.Repository),
				Advice: fmt.Sprintf("Restore it: aws ecr update-image-storage-class --repository-name %s --registry-id %s --image-id imageDigest=%s --target-storage-class STANDARD",
					c.Ref.Repository, c.Ref.ECRAccount, aws.ToString(d.ImageDigest)),
			}
		}
		checked = append(checked, c.Image)
	}
	if len(checked) > 0 {
		return Finding{Status: Pass, Evidence: map[string]any{"images": checked},
			Message: fmt.Sprintf("The tags or digests of %s exist in ECR.", strings.Join(checked, ", "))}
	}
	if nonECR != "" && f.Task.Class == event.ClassImage && !platformMismatch(f) {
		return Finding{Status: Fail, Evidence: map[string]any{"source": "stop reason", "reason": f.Task.Failure},
			Message: fmt.Sprintf("The registry reports that the image of %s does not exist.", nonECR),
			Advice:  "Check the image name and tag in the task definition against the registry; a typo or a tag that was never pushed is the usual cause.",
		}
	}
	return Finding{Status: Skip, Message: "no private ECR image whose repository exists to check"}
}

// isFailedContainer reports whether c is the container whose pull failed;
// every container is a suspect when the event does not say.
func isFailedContainer(f *account.Facts, c containerImage) bool {
	return f.Task.FailedContainer == "" || f.Task.FailedContainer == c.Name
}

// findImage returns the image the reference names: by digest when it has one, else by tag.
func findImage(details []ecrtypes.ImageDetail, r event.ImageRef) *ecrtypes.ImageDetail {
	for i, d := range details {
		if r.Digest != "" && aws.ToString(d.ImageDigest) == r.Digest {
			return &details[i]
		}
		if r.Digest == "" && slices.Contains(d.ImageTags, r.Tag) {
			return &details[i]
		}
	}
	return nil
}

// latestTags returns up to n tags, the most recently pushed images first.
func latestTags(details []ecrtypes.ImageDetail, n int) []string {
	sorted := slices.Clone(details)
	slices.SortStableFunc(sorted, func(a, b ecrtypes.ImageDetail) int {
		return aws.ToTime(b.ImagePushedAt).Compare(aws.ToTime(a.ImagePushedAt))
	})
	tags := []string{}
	for _, d := range sorted {
		for _, t := range d.ImageTags {
			if len(tags) == n {
				return tags
			}
			tags = append(tags, t)
		}
	}
	return tags
}

// imageVersion names the tag or digest for a message.
func imageVersion(r event.ImageRef) string {
	if r.Digest != "" {
		return "Digest " + r.Digest
	}
	return "Tag " + r.Tag
}
