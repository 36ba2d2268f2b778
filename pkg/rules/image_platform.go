package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// ImagePlatform: the image has a manifest for the task's platform.
var ImagePlatform = Rule{
	ID:       "image.platform",
	Title:    "image has no manifest for the task's platform",
	Severity: High,
	Summary:  "The image has a manifest for the task's platform (runtimePlatform.cpuArchitecture, default X86_64)",
	Remediation: "Push a multi-platform image (docker buildx build --platform linux/amd64,linux/arm64 --push ...) " +
		"or set the task definition's runtimePlatform.cpuArchitecture to the image's architecture.",
	Check: checkPlatform,
}

// platformReason finds the platform a "no manifest for this platform" stop reason names.
var platformReason = regexp.MustCompile(`(?i)(?:does not contain descriptor matching platform|no matching manifest for)\s*['"]?([a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_]+)?)`)

func checkPlatform(f *account.Facts) Finding {
	cs := containerImages(f)
	if len(cs) == 0 {
		return Finding{Status: Skip, Message: "the task has no container image to check"}
	}
	target := cs[0] // the failed container, when known
	want, source := taskPlatform(f)
	build, buildSource := windowsBuild(f)
	ev := map[string]any{"image": target.Image, "taskPlatform": want, "taskPlatformSource": source}
	if build != "" {
		ev["taskOSVersion"], ev["taskOSVersionSource"] = build, buildSource
	}
	if platformMismatch(f) {
		// A Windows stop reason may name only the OS; the index names the
		// builds it has, which is what the host's build must match.
		if build != "" && target.RefErr == nil && target.Ref.IsECR() {
			if fd, ok := platformFromIndex(f, target, want, build, source, ev); ok && fd.Status == Fail {
				fd.Evidence["reason"] = f.Task.Failure
				return fd
			}
		}
		named := want
		if m := platformReason.FindStringSubmatch(f.Task.Failure); m != nil {
			named = strings.ToLower(m[1])
		}
		ev["source"], ev["reason"] = "stop reason", f.Task.Failure
		return noManifest(target, named, source, ev, "")
	}
	if target.RefErr == nil && target.Ref.IsECR() {
		if fd, ok := platformFromIndex(f, target, want, build, source, ev); ok {
			return fd
		}
	}
	ev["source"] = "stop reason"
	return Finding{Status: Pass, Evidence: ev,
		Message: fmt.Sprintf("The stop reason reports no platform mismatch for image %s; the ECR API does not tell an image's platform.", target.Image)}
}

// noManifest is the failure for an image without a manifest for the task's platform.
func noManifest(target containerImage, platform, source string, ev map[string]any, has string) Finding {
	return Finding{Status: Fail, Evidence: ev,
		Message: fmt.Sprintf("Image %s has no manifest for %s, the platform the task runs on (%s)%s.", target.Image, platform, source, has),
		Advice: fmt.Sprintf("Push the image for %s (docker buildx build --platform %s --push -t %s .), or register a task definition revision whose runtimePlatform matches the image: "+
			"aws ecs register-task-definition ... --runtime-platform cpuArchitecture=X86_64|ARM64,operatingSystemFamily=LINUX.", platform, strings.SplitN(platform, " ", 2)[0], target.Image),
	}
}

// platformFromIndex judges an ECR image by its index, the list of platforms a
// multi-platform image has. ok is false when no index is known.
func platformFromIndex(f *account.Facts, target containerImage, want, build, source string, ev map[string]any) (fd Finding, ok bool) {
	d := findImage(f.Images(account.RepoOf(target.Ref)), target.Ref)
	m := findManifest(f.ImageManifests(account.RepoOf(target.Ref)), target.Ref, d)
	if m == nil {
		if d == nil || !account.IsImageIndex(aws.ToString(d.ImageManifestMediaType)) {
			return Finding{}, false
		}
		if msg := f.Err(account.SrcImageManifests); msg != "" {
			return Finding{Status: Error, Evidence: ev, Message: fmt.Sprintf("image %s is a multi-platform index whose platforms could not be read: %s", target.Image, msg)}, true
		}
		ev["source"], ev["manifestMediaType"] = "ecr:DescribeImages and stop reason", aws.ToString(d.ImageManifestMediaType)
		return Finding{Status: Pass, Evidence: ev,
			Message: fmt.Sprintf("Image %s is a multi-platform index and the stop reason reports no platform mismatch (the index's platforms were not collected).", target.Image)}, true
	}
	platforms, err := indexPlatforms(aws.ToString(m.ImageManifest))
	if err != nil {
		return Finding{Status: Error, Evidence: ev, Message: fmt.Sprintf("the image index of %s cannot be read: %v", target.Image, err)}, true
	}
	ev["source"], ev["indexPlatforms"] = "ecr:BatchGetImage", platforms
	for _, p := range platforms {
		if p.matches(want, build) {
			return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("The index of image %s has a manifest for %s, the platform the task runs on.", target.Image, p)}, true
		}
	}
	named := want
	if build != "" {
		named += " " + build
	}
	names := make([]string, len(platforms))
	for i, p := range platforms {
		names[i] = p.String()
	}
	fd = noManifest(target, named, source, ev, "; its index lists "+strings.Join(names, ", "))
	if build != "" {
		// Process-isolated Windows containers need the host's build: "Windows
		// Server containers are blocked from starting when the build number
		// between the container host and the container image are different"
		// (Microsoft Learn, "Windows container version compatibility").
		fd.Advice = fmt.Sprintf("Build the image on a Windows base of the host's build %s (for example mcr.microsoft.com/windows/servercore with the matching ltsc tag) and push it into the index, "+
			"or register a task definition revision whose runtimePlatform.operatingSystemFamily matches a build the index has.", build)
	}
	return fd, true
}

// findManifest finds the index collected for the image: by the digest the
// reference names or DescribeImages resolved the tag to, else by tag.
func findManifest(images []ecrtypes.Image, r event.ImageRef, d *ecrtypes.ImageDetail) *ecrtypes.Image {
	digest := r.Digest
	if digest == "" && d != nil {
		digest = aws.ToString(d.ImageDigest)
	}
	for i, m := range images {
		if m.ImageId == nil {
			continue
		}
		if got := aws.ToString(m.ImageId.ImageDigest); digest != "" && got == digest || digest == "" && aws.ToString(m.ImageId.ImageTag) == r.Tag {
			return &images[i]
		}
	}
	return nil
}

// indexPlatform is one platform an image index lists (OCI Image Index
// Specification, manifests[].platform).
type indexPlatform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	OSVersion    string `json:"os.version,omitempty"`
	Variant      string `json:"variant,omitempty"`
}

func (p indexPlatform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	if p.OSVersion != "" {
		s += " " + p.OSVersion
	}
	return s
}

// matches reports whether the entry serves the task's "os/arch" and, on
// Windows, its build: an os.version of that build with any revision.
func (p indexPlatform) matches(want, build string) bool {
	if p.OS+"/"+p.Architecture != want {
		return false
	}
	return build == "" || p.OSVersion == build || strings.HasPrefix(p.OSVersion, build+".")
}

// indexPlatforms lists the platforms of an image index or manifest list,
// leaving out entries without one and BuildKit's attestation manifests
// ("unknown/unknown"), which no host pulls.
func indexPlatforms(manifest string) ([]indexPlatform, error) {
	var idx struct {
		Manifests []struct {
			Platform *indexPlatform `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(manifest), &idx); err != nil {
		return nil, err
	}
	out := []indexPlatform{}
	for _, m := range idx.Manifests {
		if p := m.Platform; p != nil && p.OS != "unknown" && p.OS != "" {
			out = append(out, *p)
		}
	}
	return out, nil
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
	if osFamily != ecstypes.OSFamilyLinux || hostOS(f) == "windows" {
		os = "windows"
	}
	cpu := "amd64"
	if arch == ecstypes.CPUArchitectureArm64 {
		cpu = "arm64"
	}
	return os + "/" + cpu, source
}

// windowsBuilds are the Windows Server builds (os.version without the
// revision) of the task definition's operating system families (Microsoft
// Learn, "Windows Server release information").
var windowsBuilds = map[ecstypes.OSFamily]string{
	ecstypes.OSFamilyWindowsServer2016Full: "10.0.14393",
	ecstypes.OSFamilyWindowsServer2019Full: "10.0.17763",
	ecstypes.OSFamilyWindowsServer2019Core: "10.0.17763",
	ecstypes.OSFamilyWindowsServer2004Core: "10.0.19041",
	ecstypes.OSFamilyWindowsServer20h2Core: "10.0.19042",
	ecstypes.OSFamilyWindowsServer2022Core: "10.0.20348",
	ecstypes.OSFamilyWindowsServer2022Full: "10.0.20348",
	ecstypes.OSFamilyWindowsServer2025Core: "10.0.26100",
	ecstypes.OSFamilyWindowsServer2025Full: "10.0.26100",
}

// windowsBuild is the Windows build the task's host runs, or "" for Linux
// or when nothing says, with where it came from. On EC2 the host is known:
// its container instance's ecs.os-family attribute names its Windows
// Server release, and a process-isolated container must match the host,
// whatever the task definition claims. On Fargate the task definition's
// family is the host's.
func windowsBuild(f *account.Facts) (build, source string) {
	if ci := f.ContainerInstance(); ci != nil {
		fam := account.ContainerInstanceAttribute(ci, "ecs.os-family")
		if b := windowsBuilds[ecstypes.OSFamily(fam)]; b != "" {
			return b, "container instance attribute ecs.os-family " + fam
		}
	}
	if td := f.TaskDefinition(); td != nil && td.RuntimePlatform != nil {
		if b := windowsBuilds[td.RuntimePlatform.OperatingSystemFamily]; b != "" {
			return b, "runtimePlatform.operatingSystemFamily " + string(td.RuntimePlatform.OperatingSystemFamily)
		}
	}
	return "", ""
}

// hostOS is the container instance's ecs.os-type attribute ("linux",
// "windows"), or "" on Fargate or when not known. A Windows host runs
// Windows containers even for a task definition without runtimePlatform.
func hostOS(f *account.Facts) string {
	if ci := f.ContainerInstance(); ci != nil {
		return strings.ToLower(account.ContainerInstanceAttribute(ci, "ecs.os-type"))
	}
	return ""
}
