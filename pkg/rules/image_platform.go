package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// ImagePlatform: the image has a manifest for the task's platform.
var ImagePlatform = Rule{
	ID:       "image.platform",
	Severity: High,
	Summary:  "The image has a manifest for the task's platform (runtimePlatform.cpuArchitecture, default X86_64)",
	Remediation: "Push a multi-platform image (docker buildx build --platform linux/amd64,linux/arm64 --push ...) " +
		"or set the task definition's runtimePlatform.cpuArchitecture to the image's architecture.",
	Check: checkPlatform,
}

// platformReason finds the platform a "no manifest for this platform" stop reason names.
var platformReason = regexp.MustCompile(`(?i)(?:does not contain descriptor matching platform|no matching manifest for)\s*['"]?([a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_]+)?)`)

// indexMediaTypes mark a multi-platform image (a manifest list or OCI index).
var indexMediaTypes = []string{
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.index.v1+json",
}

func checkPlatform(f *account.Facts) Finding {
	cs := containerImages(f)
	if len(cs) == 0 {
		return Finding{Status: Skip, Message: "the task has no container image to check"}
	}
	target := cs[0] // the failed container, when known
	want, source := taskPlatform(f)
	ev := map[string]any{"image": target.Image, "taskPlatform": want, "taskPlatformSource": source}
	if platformMismatch(f) {
		named := want
		if m := platformReason.FindStringSubmatch(f.Task.Failure); m != nil {
			named = strings.ToLower(m[1])
		}
		ev["source"], ev["reason"] = "stop reason", f.Task.Failure
		return Finding{Status: Fail, Evidence: ev,
			Message: fmt.Sprintf("Image %s has no manifest for %s, the platform the task runs on (%s).", target.Image, named, source),
			Advice: fmt.Sprintf("Push the image for %s (docker buildx build --platform %s --push -t %s .), or register a task definition revision whose runtimePlatform matches the image: "+
				"aws ecs register-task-definition ... --runtime-platform cpuArchitecture=X86_64|ARM64,operatingSystemFamily=LINUX.", named, named, target.Image),
		}
	}
	if target.RefErr == nil && target.Ref.IsECR() {
		if d := findImage(f.ECR.Images[target.Ref.Repository], target.Ref); d != nil && isIndex(aws.ToString(d.ImageManifestMediaType)) {
			ev["source"], ev["manifestMediaType"] = "ecr:DescribeImages and stop reason", aws.ToString(d.ImageManifestMediaType)
			return Finding{Status: Pass, Evidence: ev,
				Message: fmt.Sprintf("Image %s is a multi-platform index and the stop reason reports no platform mismatch (ECR does not list the index's platforms).", target.Image)}
		}
	}
	ev["source"] = "stop reason"
	return Finding{Status: Pass, Evidence: ev,
		Message: fmt.Sprintf("The stop reason reports no platform mismatch for image %s; the ECR API does not tell an image's platform.", target.Image)}
}

// platformMismatch reports a stop reason saying the image lacks the task's platform.
func platformMismatch(f *account.Facts) bool {
	return reasonHas(f, "does not contain descriptor matching platform", "no matching manifest for")
}

// taskPlatform returns the task's OCI platform ("linux/amd64") and where it came from.
func taskPlatform(f *account.Facts) (platform, source string) {
	td := f.TaskDefinition()
	if td == nil {
		return "linux/amd64", "default X86_64; task definition not collected"
	}
	arch, osFamily, source := ecstypes.CPUArchitectureX8664, ecstypes.OSFamilyLinux, "no runtimePlatform in the task definition: default X86_64"
	if rp := td.RuntimePlatform; rp != nil {
		if rp.CpuArchitecture != "" {
			arch, source = rp.CpuArchitecture, "runtimePlatform.cpuArchitecture "+string(rp.CpuArchitecture)
		}
		if rp.OperatingSystemFamily != "" {
			osFamily = rp.OperatingSystemFamily
		}
	}
	os := "linux"
	if osFamily != ecstypes.OSFamilyLinux {
		os = "windows"
	}
	cpu := "amd64"
	if arch == ecstypes.CPUArchitectureArm64 {
		cpu = "arm64"
	}
	return os + "/" + cpu, source
}

func isIndex(mediaType string) bool {
	return slices.Contains(indexMediaTypes, strings.ToLower(mediaType))
}
