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
		pulled := c.Ref
		if digest := f.Task.PulledDigest(c.Name); digest != "" {
			// A service's task pulls the digest ECS pinned at deployment, not the tag.
			pulled.Digest = digest
		}
		d := findImage(details, pulled)
		if d == nil && pulled.Digest != c.Ref.Digest {
			return pinnedDigestGone(f, c, pulled.Digest, details)
		}
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
		checked = append(checked, imageLabel(c.Image, pulled, c.Ref))
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

// pinnedDigestGone is the failure of a task whose pinned digest is no longer
// in the repository. ECS resolves a service's tags to digests at deployment
// and starts every later task with those digests, so a tag that moved on, and
// a lifecycle policy that then expired the old image, leave the service
// pulling an image that is gone (ECS Developer Guide, "Container image
// resolution": https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability).
// A new deployment resolves the tag again; lifecycle rules select images by
// tagStatus, tagPatternList and countType (ECR User Guide, "Lifecycle policy
// properties": https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html).
func pinnedDigestGone(f *account.Facts, c containerImage, digest string, details []ecrtypes.ImageDetail) Finding {
	r := c.Ref
	ev := map[string]any{"image": c.Image, "container": c.Name, "pinnedDigest": digest, "recentTags": latestTags(details, recentTags)}
	msg := fmt.Sprintf("Digest %s, which ECS pinned for %s at deployment, is no longer in repository %s", digest, c.label(), r.Repository)
	var fix string
	switch tagged := findImage(details, event.ImageRef{Tag: r.Tag}); {
	case r.Tag == "" || r.Digest != "":
		msg += "."
		fix = "Point the task definition at an image that exists"
	case tagged != nil:
		ev["tagDigest"] = aws.ToString(tagged.ImageDigest)
		msg += fmt.Sprintf(", although tag %s still exists (now %s): the task pulls the pinned digest, not the tag.", r.Tag, aws.ToString(tagged.ImageDigest))
		fix = "Make ECS resolve the tag again"
	default:
		msg += fmt.Sprintf(", and tag %s is gone too.", r.Tag)
		fix = fmt.Sprintf("Push tag %s again, then make ECS resolve it", r.Tag)
	}
	if f.Task.Service != "" {
		fix += fmt.Sprintf(": aws ecs update-service --cluster %s --service %s --force-new-deployment --region %s.", f.Task.ClusterName(), f.Task.Service, taskRegion(f))
	} else {
		fix += ", and start the task again."
	}
	return Finding{Status: Fail, Evidence: ev, Message: msg,
		Advice: fix + fmt.Sprintf(" Then keep lifecycle rules from expiring images in use: see aws ecr get-lifecycle-policy --repository-name %s --registry-id %s --region %s; "+
			"an untagged or sinceImagePushed rule deletes the image a moved tag left behind while a service still runs it. "+
			"Deploy immutable tags (one per build) so a tag never moves, or expire by imageCountMoreThan with room for every running deployment.",
			r.Repository, r.ECRAccount, r.ECRRegion),
	}
}

// imageLabel names a checked image, with the digest it was pulled by when
// that is not in the reference.
func imageLabel(image string, pulled, ref event.ImageRef) string {
	if pulled.Digest == ref.Digest {
		return image
	}
	return image + "@" + pulled.Digest
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
