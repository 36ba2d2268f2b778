package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
)

// TestImagePlatformWindowsHost: on EC2 the host's build (its container
// instance's ecs.os-family) is what a Windows image must match.
func TestImagePlatformWindowsHost(t *testing.T) {
	const ltsc2019 = `{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:dd","size":1,"platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.5122"}}`
	windowsHost := func(family string) func(*account.Facts) {
		return func(f *account.Facts) {
			onHost("subnet-app")(f)
			hostCI(f).Attributes = []ecstypes.Attribute{{Name: aws.String("ecs.os-type"), Value: aws.String("windows")}, {Name: aws.String("ecs.os-family"), Value: aws.String(family)}}
			f.ECR.Images["team/api"][1].ImageManifestMediaType = aws.String("application/vnd.oci.image.index.v1+json")
			f.ECR.ImageManifests = map[string][]ecrtypes.Image{"team/api": {{
				ImageId:       &ecrtypes.ImageIdentifier{ImageDigest: aws.String(ixDigest)},
				ImageManifest: aws.String(`{"schemaVersion":2,"manifests":[` + ltsc2019 + `]}`),
			}}}
		}
	}
	runRuleCases(t, ImagePlatform, []ruleCase{
		{name: "2022 host, 2019 image fails on the host's build", facts: with(ixFacts, windowsHost("WINDOWS_SERVER_2022_FULL")), status: Fail,
			msg:   "has no manifest for windows/amd64 10.0.20348",
			check: evidenceHas(`"taskOSVersionSource":"container instance attribute ecs.os-family WINDOWS_SERVER_2022_FULL"`, `"taskPlatform":"windows/amd64"`)},
		{name: "2019 host passes", facts: with(ixFacts, windowsHost("WINDOWS_SERVER_2019_CORE")), status: Pass, msg: "windows/amd64 10.0.17763.5122"},
		{name: "the host wins over the task definition's family", facts: with(ixFacts, ixThen(windowsHost("WINDOWS_SERVER_2019_FULL"), func(f *account.Facts) {
			f.ECS.TaskDefinitions[0].RuntimePlatform = &ecstypes.RuntimePlatform{OperatingSystemFamily: ecstypes.OSFamilyWindowsServer2022Core}
		})), status: Pass, msg: "10.0.17763"},
	})
}
