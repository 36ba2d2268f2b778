package rules

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

func TestHostStorage(t *testing.T) {
	const noSpace = "CannotPullContainerError: failed to register layer: write /var/lib/docker/overlay2/abc/diff/usr/lib/x.so: no space left on device"
	size := func(gib float64) func(*account.Facts) {
		return func(f *account.Facts) {
			f.ECR.Images["team/api"][1].ImageSizeInBytes = aws.Int64(int64(gib * (1 << 30)))
		}
	}
	storage := func(n int32) func(*account.Facts) {
		return func(f *account.Facts) {
			f.ECS.TaskDefinitions[0].EphemeralStorage = &ecstypes.EphemeralStorage{SizeInGiB: n}
		}
	}
	full := ixReason(noSpace, event.ClassHost)
	runRuleCases(t, HostStorage, []ruleCase{
		{name: "small image fits the default 20 GiB", facts: with(ixFacts, size(0.5)), status: Pass, msg: "0.50 GiB compressed in ECR (unpacked they take more), fit its 20 GiB of ephemeral storage (the default)"},
		{name: "over half warns", facts: with(ixFacts, size(12)), status: Warn, msg: "over half of its 20 GiB", check: adviceHas(`"ephemeralStorage": {"sizeInGiB": N}`)},
		{name: "larger than the storage fails", facts: with(ixFacts, size(25)), status: Fail, msg: "25.00 GiB compressed in ECR (unpacked they take more), more than its 20 GiB"},
		{name: "ephemeralStorage setting counts", facts: with(ixFacts, ixThen(size(25), storage(100))), status: Pass, msg: "ephemeralStorage.sizeInGiB 100"},
		{name: "no space on Fargate fails whatever the sizes", facts: with(ixFacts, ixThen(size(0.5), full)), status: Fail, msg: `"no space left on device"`,
			check: evidenceHas(`"compressedImageBytes":536870912`)},
		{name: "image size unknown passes only on what is known", facts: with(ixFacts, func(f *account.Facts) { f.ECR.Images = nil }), status: Pass, msg: "not known from ECR"},
		{name: "image read denied is an error", facts: failedRead(with(ixFacts, func(f *account.Facts) { f.ECR.Images = nil }), account.SrcImages), status: Error, msg: "AccessDenied"},
		{name: "EC2 without the stop reason skips", facts: with(ixFacts, onHost("subnet-app")), status: Skip, msg: "not in the ECS or EC2 APIs"},
		{name: "EC2 disk full fails with the way to free it", facts: with(ixFacts, ixThen(onHost("subnet-app"), full)), status: Fail,
			msg:   "ran out of disk on instance i-host (container instance ci-1)",
			check: both(adviceHas("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION"), both(adviceHas("ECS_IMAGE_CLEANUP_INTERVAL"), adviceHas("aws ssm send-command --instance-ids i-host")))},
		{name: "task definition not collected", facts: with(ixFacts, func(f *account.Facts) { f.ECS.TaskDefinitions = nil }), status: Error, msg: "not found"},
	})
}
