package rules

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// HostStorage: the pull has room to download and unpack the images.
var HostStorage = Rule{
	ID:       "host.storage",
	Title:    "no room for the image",
	Severity: High,
	Summary:  "The pull has disk room: no \"no space left on device\"; on Fargate the images' compressed sizes fit the task's ephemeral storage (default 20 GiB)",
	Remediation: "Free or grow the disk the images unpack on: the task's ephemeralStorage on Fargate, " +
		"the instance's Docker data volume and the agent's cleanup settings on EC2.",
	Needs: []account.Source{account.SrcTaskDefinition},
	Check: checkHostStorage,
}

// fargateDefaultGiB is a Fargate task's ephemeral storage without an
// ephemeralStorage setting: "By default, Amazon ECS tasks that are hosted on
// Fargate using platform version 1.4.0 or later receive a minimum of 20 GiB
// of ephemeral storage" (Amazon ECS Developer Guide, "Fargate task ephemeral
// storage", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-storage.html);
// ephemeralStorage raises it up to 200 GiB.
const fargateDefaultGiB = 20

const gib = 1 << 30

// diskFull reports the stop reason of a pull that ran out of disk.
func diskFull(f *account.Facts) bool { return reasonHas(f, "no space left on device") }

func checkHostStorage(f *account.Facts) Finding {
	td := f.TaskDefinition()
	if td == nil {
		return taskDefinitionNotFound(f)
	}
	if f.OnInstance() {
		return instanceStorage(f)
	}
	size, setting := int32(fargateDefaultGiB), "the default"
	if es := td.EphemeralStorage; es != nil && es.SizeInGiB > 0 {
		size, setting = es.SizeInGiB, fmt.Sprintf("ephemeralStorage.sizeInGiB %d", es.SizeInGiB)
	}
	ev := map[string]any{"ephemeralStorageGiB": size, "ephemeralStorageSource": setting}
	total, sized, unsized := imageSizes(f)
	ev["compressedImageBytes"] = total
	if len(sized) > 0 {
		ev["images"] = sized
	}
	if len(unsized) > 0 {
		ev["sizeUnknown"] = unsized
	}
	grow := fmt.Sprintf("Give the task more ephemeral storage (21 to 200 GiB, platform 1.4.0+): register a revision of %s with \"ephemeralStorage\": {\"sizeInGiB\": N} "+
		"(aws ecs register-task-definition ... --ephemeral-storage sizeInGiB=N), or make the images smaller (multi-stage builds, slimmer bases).", aws.ToString(td.Family))
	limit := int64(size) * gib
	sizes := fmt.Sprintf("%s compressed in ECR (unpacked they take more)", gibText(total))
	if len(sized) == 0 {
		sizes = "whose sizes ECR did not report"
	}
	switch {
	case diskFull(f):
		ev["stopReason"] = f.Task.Failure
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("The pull ran out of disk (\"no space left on device\"): the task's %d GiB of ephemeral storage (%s) could not hold its images, %s.", size, setting, sizes),
			Advice:  grow}
	}
	// A size that could not be read is not a small one.
	if fd, failed := readFailed(f, account.SrcImages); failed && len(unsized) > 0 {
		return fd
	}
	switch {
	case total > limit:
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("The task's images are %s, more than its %d GiB of ephemeral storage (%s).", sizes, size, setting),
			Advice:  grow}
	case total > limit/2:
		return Finding{Status: Warn, Evidence: ev,
			Message: fmt.Sprintf("The task's images are %s, over half of its %d GiB of ephemeral storage (%s): unpacked, with the containers' own writes, they may not fit.", sizes, size, setting),
			Advice:  grow}
	case len(sized) == 0:
		return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("No stop reason of a full disk; the images' sizes are not known from ECR (%s), against %d GiB of ephemeral storage.", strings.Join(unsized, ", "), size)}
	}
	return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("The task's images, %s, fit its %d GiB of ephemeral storage (%s).", sizes, size, setting)}
}

// imageSizes adds up the compressed sizes ECR reports for the task's
// images; unsized lists the images whose size is not known (not in ECR, or
// not collected).
func imageSizes(f *account.Facts) (total int64, sized, unsized []string) {
	for _, c := range containerImages(f) {
		if c.RefErr != nil || !c.Ref.IsECR() {
			unsized = append(unsized, c.Image)
			continue
		}
		d := findImage(f.Images(account.RepoOf(c.Ref)), c.Ref)
		if d == nil || d.ImageSizeInBytes == nil {
			unsized = append(unsized, c.Image)
			continue
		}
		total += aws.ToInt64(d.ImageSizeInBytes)
		sized = append(sized, fmt.Sprintf("%s: %s", c.Image, gibText(aws.ToInt64(d.ImageSizeInBytes))))
	}
	return total, sized, unsized
}

// gibText writes a byte count in GiB with two decimals.
func gibText(n int64) string { return fmt.Sprintf("%.2f GiB", float64(n)/gib) }

// instanceStorage judges a container instance's disk. Its fill level is in
// no ECS or EC2 API, so only the stop reason can prove it full; the advice
// is how to find and free the space, which a person does on the host.
func instanceStorage(f *account.Facts) Finding {
	if !diskFull(f) {
		return Finding{Status: Skip, Message: "A container instance's free disk space is not in the ECS or EC2 APIs; only a \"no space left on device\" stop reason shows a full disk, and this one does not say it."}
	}
	id, host := "INSTANCE_ID", "the container instance"
	if ci := f.ContainerInstance(); ci != nil {
		host = hostLabel(f, ci)
		id = cmp.Or(aws.ToString(ci.Ec2InstanceId), id)
	}
	ev := map[string]any{"stopReason": f.Task.Failure, "host": host}
	// ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION (default 3h) keeps stopped
	// tasks' containers, ECS_IMAGE_CLEANUP_INTERVAL (default 30m) paces the
	// removal of unused images: Amazon ECS Developer Guide, "Automatic Amazon
	// ECS task and image cleanup",
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/automated_image_cleanup.html.
	return Finding{Status: Fail, Evidence: ev,
		Message: fmt.Sprintf("The pull ran out of disk on %s (\"no space left on device\"): the Docker data volume is full of images and stopped containers.", host),
		Advice: fmt.Sprintf(`Find what fills it: aws ssm send-command --instance-ids %s --document-name AWS-RunShellScript --parameters 'commands=["df -h / /var/lib/docker","docker system df"]'; `+
			`free it there with docker container prune -f and docker image prune -af (unused images only). `+
			"Then keep it free: in /etc/ecs/ecs.config lower ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION (stopped tasks' containers, default 3h) and ECS_IMAGE_CLEANUP_INTERVAL (unused images, default 30m), "+
			"and give the launch template a larger data volume (the root volume on the ECS-optimized Amazon Linux 2 and 2023 AMIs).", id)}
}
