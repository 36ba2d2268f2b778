package rules

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

// dropEndpoint removes a fixture endpoint by ID.
func dropEndpoint(id string) func(*account.Facts) {
	return func(f *account.Facts) {
		var keep = f.EC2.VpcEndpoints[:0]
		for _, ep := range f.EC2.VpcEndpoints {
			if aws.ToString(ep.VpcEndpointId) != id {
				keep = append(keep, ep)
			}
		}
		f.EC2.VpcEndpoints = keep
	}
}

func withSecrets(f *account.Facts) {
	c := &f.ECS.TaskDefinitions[0].ContainerDefinitions[0]
	c.Secrets = []ecstypes.Secret{{Name: aws.String("DB"), ValueFrom: aws.String("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db")},
		{Name: aws.String("KEY"), ValueFrom: aws.String("/prod/key")}}
}

func TestNetworkVPCEndpoints(t *testing.T) {
	runRuleCases(t, NetworkVPCEndpoints, []ruleCase{
		{name: "endpoint design passes", facts: endpointVPC, status: Pass, msg: "every endpoint", check: func(t *testing.T, fd Finding) {
			want := []string{"ecr.dkr interface endpoint vpce-ecr-dkr", "ecr.api interface endpoint vpce-ecr-api",
				"s3 gateway endpoint vpce-s3", "logs interface endpoint vpce-logs"}
			if !reflect.DeepEqual(fd.Evidence["present"], want) {
				t.Errorf("present = %v, want %v", fd.Evidence["present"], want)
			}
			if !reflect.DeepEqual(fd.Evidence["notInTaskAZ"], []string{"vpce-ecr-dkr", "vpce-ecr-api", "vpce-logs"}) {
				t.Errorf("notInTaskAZ = %v", fd.Evidence["notInTaskAZ"])
			}
		}},
		{name: "nat path skips", facts: natVPC, status: Skip, msg: "needs no VPC endpoints"},
		{name: "an ECR image of another region fails, naming it", facts: with(endpointVPC, func(f *account.Facts) {
			img := "111122223333.dkr.ecr.us-east-1.amazonaws.com/api:1.0"
			f.Task.Containers[0].Image = img
			f.ECS.TaskDefinitions[0].ContainerDefinitions[0].Image = aws.String(img)
		}), status: Fail, msg: "is in ECR of region us-east-1, and the VPC's endpoints serve only eu-west-1",
			check: adviceHas("replicate the repository to eu-west-1 (ECR replication)")},
		{name: "transit gateway skips", facts: with(endpointVPC, func(f *account.Facts) {
			rt := fxRouteTable(f, "rtb-app")
			rt.Routes = append(rt.Routes, fxRoute("0.0.0.0/0", func(r *ec2types.Route) { r.TransitGatewayId = aws.String("tgw-1") }))
		}), status: Skip, msg: "through tgw-1"},
		{name: "missing ecr.api fails", facts: with(endpointVPC, dropEndpoint("vpce-ecr-api")), status: Fail, msg: "no ecr.api interface endpoint",
			check: adviceHas("aws ec2 create-vpc-endpoint --vpc-id vpc-1 --vpc-endpoint-type Interface --service-name com.amazonaws.eu-west-1.ecr.api")},
		{name: "platform 1.3.0 needs no ecr.api", facts: with(endpointVPC, func(f *account.Facts) {
			dropEndpoint("vpce-ecr-api")(f)
			f.Task.PlatformVersion = "1.3.0"
		}), status: Pass, msg: "every endpoint"},
		{name: "platform LATEST needs ecr.api", facts: with(endpointVPC, func(f *account.Facts) {
			dropEndpoint("vpce-ecr-api")(f)
			f.Task.PlatformVersion = "LATEST"
		}), status: Fail, msg: "no ecr.api"},
		{name: "missing S3 gateway fails", facts: with(endpointVPC, dropEndpoint("vpce-s3")), status: Fail, msg: "no s3 gateway endpoint",
			check: adviceHas("--vpc-endpoint-type Gateway --service-name com.amazonaws.eu-west-1.s3 --route-table-ids rtb-app")},
		{name: "S3 gateway on another route table fails", facts: with(endpointVPC, func(f *account.Facts) {
			fxEndpoint(f, "vpce-s3").RouteTableIds = []string{"rtb-main"}
		}), status: Fail, msg: "vpce-s3 is not associated with route table rtb-app",
			check: adviceHas("aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-app")},
		{name: "private DNS off fails", facts: with(endpointVPC, func(f *account.Facts) { fxEndpoint(f, "vpce-ecr-dkr").PrivateDnsEnabled = aws.Bool(false) }),
			status: Fail, msg: "vpce-ecr-dkr has private DNS disabled", check: adviceHas("--vpc-endpoint-id vpce-ecr-dkr --private-dns-enabled")},
		{name: "pending endpoint fails, state case-insensitive", facts: with(endpointVPC, func(f *account.Facts) {
			fxEndpoint(f, "vpce-ecr-dkr").State = "PendingAcceptance"
			fxEndpoint(f, "vpce-ecr-api").State = "Available"
		}), status: Fail, msg: "vpce-ecr-dkr is pendingacceptance"},
		{name: "missing logs endpoint fails when awslogs", facts: with(endpointVPC, dropEndpoint("vpce-logs")), status: Fail, msg: "no logs interface endpoint (awslogs log driver)"},
		{name: "secrets need secretsmanager and ssm", facts: with(endpointVPC, withSecrets), status: Fail, msg: "no secretsmanager interface endpoint"},
		{name: "docker hub image fails", facts: with(endpointVPC, func(f *account.Facts) {
			f.Task.Containers = append(f.Task.Containers, event.Container{Name: "proxy", Image: "nginx:1.27"})
		}), status: Fail, msg: "image nginx:1.27 is outside ECR"},
		{name: "public ECR image fails", facts: with(endpointVPC, func(f *account.Facts) {
			f.Task.Containers[0].Image = "public.ecr.aws/nginx/nginx:latest"
		}), status: Fail, msg: "public.ecr.aws/nginx/nginx:latest is outside ECR"},
		{name: "no internet and no ECR endpoints skips for network.route", facts: with(endpointVPC, func(f *account.Facts) { f.EC2.VpcEndpoints = nil }),
			status: Skip, msg: "network.route judges"},
		{name: "ecr.dkr missing beside ecr.api fails", facts: with(endpointVPC, dropEndpoint("vpce-ecr-dkr")), status: Fail, msg: "no ecr.dkr interface endpoint"},
		{name: "task definition unknown warns", facts: with(endpointVPC, func(f *account.Facts) { f.ECS.TaskDefinitions = nil }),
			status: Warn, msg: "task definition arn:aws:ecs:eu-west-1:111122223333:task-definition/api:7 not found"},
		{name: "task definition read failed is an error", facts: with(endpointVPC, func(f *account.Facts) {
			f.ECS.TaskDefinitions = nil
			f.Fail(account.SrcTaskDefinition, errAccessDenied)
		}), status: Error, msg: "ecs:task-definition: AccessDenied"}, // a failed read is never a verdict
		{name: "endpoints read failed is an error", facts: failedRead(endpointVPC, account.SrcVPCEndpoints), status: Error, msg: "ec2:vpc-endpoints: AccessDenied"},
		{name: "subnet not found is an error", facts: with(endpointVPC, func(f *account.Facts) { f.EC2.Subnets = nil }), status: Error, msg: "not found"},
	})
}
