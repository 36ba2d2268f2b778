package rules

import (
	"reflect"
	"testing"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/pullmedic/pullmedic/pkg/account"
)

func privateIPOff(f *account.Facts) {
	f.ECS.Services[0].NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp = ecstypes.AssignPublicIpDisabled
}

func wantFix(want Fix, advice string) func(*testing.T, Finding) {
	return func(t *testing.T, fd Finding) {
		t.Helper()
		if fd.Fix == nil || !reflect.DeepEqual(*fd.Fix, want) {
			t.Errorf("fix = %+v, want %+v", fd.Fix, want)
		}
		adviceHasText(t, fd, advice)
	}
}

func TestNetworkPublicIP(t *testing.T) {
	runRuleCases(t, NetworkPublicIP, []ruleCase{
		{name: "public subnet with public IP passes", facts: publicVPC, status: Pass, msg: "has a public IP", check: func(t *testing.T, fd Finding) {
			if fd.Evidence["assignPublicIp"] != "ENABLED" {
				t.Errorf("evidence = %v", fd.Evidence)
			}
		}},
		{name: "private subnet skips", facts: natVPC, status: Skip, msg: "needs no public IP"},
		{name: "endpoint design skips", facts: endpointVPC, status: Skip, msg: "needs no public IP"},
		{name: "service without public IP fails with auto fix", facts: with(publicVPC, privateIPOff), status: Fail, msg: "Service api runs tasks in public subnet subnet-pub",
			check: wantFix(Fix{Action: ActionPublicIP, Target: fxService, AutoFixable: true, Params: &Params{
				Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod", Service: "api",
				Subnets: []string{"subnet-pub"}, SecurityGroups: []string{"sg-task"}}},
				"aws ecs update-service --cluster prod --service api --network-configuration 'awsvpcConfiguration={subnets=[subnet-pub],securityGroups=[sg-task],assignPublicIp=ENABLED}'")},
		{name: "standalone task without public IP fails, not auto-fixable", facts: with(publicVPC, func(f *account.Facts) { standalone(f, false) }),
			status: Fail, msg: "standalone task",
			check: wantFix(Fix{Action: ActionPublicIP, Target: "arn:aws:ecs:eu-west-1:111122223333:task/prod/abc", Params: &Params{
				Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
				Subnets: []string{"subnet-pub"}, SecurityGroups: []string{"sg-task"}}},
				"aws ecs run-task --cluster prod --task-definition api:7 --launch-type FARGATE --network-configuration")},
		{name: "standalone task with public IP passes", facts: with(publicVPC, func(f *account.Facts) { standalone(f, true) }), status: Pass, msg: "has a public IP"},
		{name: "standalone task with ENI gone warns", facts: with(publicVPC, func(f *account.Facts) {
			standalone(f, false)
			f.EC2.NetworkInterfaces = nil
		}), status: Warn, msg: "ENI eni-1 is gone"},
		{name: "ENI read failed is an error", facts: with(publicVPC, func(f *account.Facts) {
			standalone(f, false)
			f.EC2.NetworkInterfaces = nil
			f.Fail(account.SrcNetworkInterfaces, errAccessDenied)
		}), status: Error, msg: "AccessDenied"},
		{name: "service not found is an error", facts: with(publicVPC, func(f *account.Facts) { f.ECS.Services = nil }), status: Error, msg: "service api not found"},
		{name: "service read failed is an error", facts: failedRead(publicVPC, account.SrcService), status: Error, msg: "AccessDenied"},
		{name: "subnet not found is an error", facts: with(publicVPC, func(f *account.Facts) { f.EC2.Subnets = nil }), status: Error, msg: "not found"},
	})
}
