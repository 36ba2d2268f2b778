package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	runRuleCases(t, ImagePlatform, []ruleCase{
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
