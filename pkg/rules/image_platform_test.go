package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

func TestImagePlatform(t *testing.T) {
	arm := func(f *account.Facts) {
		f.ECS.TaskDefinitions[0].RuntimePlatform = &ecstypes.RuntimePlatform{CpuArchitecture: ecstypes.CPUArchitectureArm64}
	}
	noDescriptor := ixReason("CannotPullContainerError: failed to resolve ref: image Manifest does not contain descriptor matching platform 'linux/arm64'", event.ClassImage)
	index := func(f *account.Facts) {
		f.ECR.Images["team/api"][1].ImageManifestMediaType = aws.String("application/vnd.oci.image.index.v1+json")
	}
	// collected sets the image's index as BatchGetImage returns it, listing platforms.
	collected := func(platforms string) func(*account.Facts) {
		return func(f *account.Facts) {
			index(f)
			f.ECR.ImageManifests = map[string][]ecrtypes.Image{"team/api": {{
				ImageId:                &ecrtypes.ImageIdentifier{ImageDigest: aws.String(ixDigest), ImageTag: aws.String("1.0")},
				ImageManifestMediaType: aws.String("application/vnd.oci.image.index.v1+json"),
				ImageManifest:          aws.String(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + platforms + `]}`),
			}}}
		}
	}
	const (
		amd64       = `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":1,"platform":{"architecture":"amd64","os":"linux"}}`
		arm64       = `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:bb","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}`
		attestation = `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cc","size":1,"platform":{"architecture":"unknown","os":"unknown"}}`
		ltsc2019    = `{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:dd","size":1,"platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.5122"}}`
		ltsc2022    = `{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:ee","size":1,"platform":{"architecture":"amd64","os":"windows","os.version":"10.0.20348.2113"}}`
	)
	win2022 := func(f *account.Facts) {
		f.ECS.TaskDefinitions[0].RuntimePlatform = &ecstypes.RuntimePlatform{OperatingSystemFamily: ecstypes.OSFamilyWindowsServer2022Core}
	}
	runRuleCases(t, ImagePlatform, []ruleCase{
		{name: "index without the task's architecture fails on a generic reason", facts: with(ixFacts, ixThen(arm, collected(amd64+","+attestation))), status: Fail,
			msg:   "Image " + ixImage + " has no manifest for linux/arm64, the platform the task runs on (runtimePlatform.cpuArchitecture ARM64); its index lists linux/amd64.",
			check: both(adviceHas("docker buildx build --platform linux/arm64 --push"), evidenceHas(`"source":"ecr:BatchGetImage"`, `"indexPlatforms":[{"architecture":"amd64","os":"linux"}]`))},
		{name: "index with the task's architecture passes", facts: with(ixFacts, ixThen(arm, collected(amd64+","+arm64+","+attestation))), status: Pass,
			msg: "The index of image " + ixImage + " has a manifest for linux/arm64/v8", check: evidenceHas(`"source":"ecr:BatchGetImage"`)},
		{name: "windows index of another build fails", facts: with(ixFacts, ixThen(win2022, collected(ltsc2019))), status: Fail,
			msg:   "has no manifest for windows/amd64 10.0.20348, the platform the task runs on",
			check: both(adviceHas("Windows base of the host's build 10.0.20348"), evidenceHas(`"taskOSVersion":"10.0.20348"`, `"os.version":"10.0.17763.5122"`))},
		{name: "windows index of the host's build passes whatever the revision", facts: with(ixFacts, ixThen(win2022, collected(ltsc2019+","+ltsc2022))), status: Pass,
			msg: "windows/amd64 10.0.20348.2113"},
		{name: "index found by tag without DescribeImages", facts: with(ixFacts, ixThen(arm, collected(amd64), func(f *account.Facts) {
			f.ECR.Images = nil
			f.ECR.ImageManifests["team/api"][0].ImageId.ImageDigest = nil
		})), status: Fail, msg: "its index lists linux/amd64"},
		{name: "unread index is an error", facts: with(failedRead(ixFacts, account.SrcImageManifests), index), status: Error,
			msg: "multi-platform index whose platforms could not be read: ecr:image-manifests: AccessDenied"},
		{name: "unparsable index is an error", facts: with(ixFacts, ixThen(collected(amd64), func(f *account.Facts) {
			f.ECR.ImageManifests["team/api"][0].ImageManifest = aws.String("{not json")
		})), status: Error, msg: "the image index of " + ixImage + " cannot be read"},
		{name: "no mismatch in the reason passes", facts: ixFacts, status: Pass, msg: "The stop reason reports no platform mismatch",
			check: evidenceHas(`"source":"stop reason"`, `"taskPlatform":"linux/amd64"`)},
		{name: "multi-platform index passes", facts: with(ixFacts, index), status: Pass, msg: "multi-platform index",
			check: evidenceHas(`"source":"ecr:DescribeImages and stop reason"`, "image.index")},
		{name: "arm64 task without descriptor fails", facts: with(ixFacts, ixThen(arm, noDescriptor)), status: Fail,
			msg:   "Image " + ixImage + " has no manifest for linux/arm64, the platform the task runs on (runtimePlatform.cpuArchitecture ARM64)",
			check: both(adviceHas("docker buildx build --platform linux/arm64 --push"), evidenceHas(`"taskPlatform":"linux/arm64"`, "descriptor matching platform"))},
		{name: "index with a platform error still fails", facts: with(ixFacts, ixThen(arm, index, noDescriptor)), status: Fail, msg: "linux/arm64"},
		{name: "no matching manifest names the platform", facts: with(ixFacts, ixReason("CannotPullContainerError: no matching manifest for linux/amd64 in the manifest list entries", event.ClassImage)),
			status: Fail, msg: "has no manifest for linux/amd64"},
		{name: "platform from the reason without a task definition", facts: with(ixFacts, ixThen(noDescriptor, func(f *account.Facts) { f.ECS.TaskDefinitions = nil })),
			status: Fail, msg: "(default X86_64; task definition not collected)"},
		{name: "windows task platform", facts: with(ixFacts, func(f *account.Facts) {
			f.ECS.TaskDefinitions[0].RuntimePlatform = &ecstypes.RuntimePlatform{OperatingSystemFamily: ecstypes.OSFamilyWindowsServer2022Core}
		}), status: Pass, check: evidenceHas(`"taskPlatform":"windows/amd64"`)},
		{name: "failed container's image is judged", facts: with(ixFacts, ixThen(ixAddContainer("proxy", "envoyproxy/envoy:v1"), func(f *account.Facts) { f.Task.FailedContainer = "proxy" })),
			status: Pass, msg: "envoyproxy/envoy:v1"},
		{name: "no container skips", facts: with(ixFacts, func(f *account.Facts) { f.Task.Containers, f.ECS.TaskDefinitions = nil, nil }), status: Skip},
	})
}
