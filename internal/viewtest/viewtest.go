// Package viewtest shows, against moto, which reads a function's account.View
// makes again when it diagnoses two tasks of one VPC in a row: whether the
// function keeps VPC-scoped facts (account.VPCCache) or reads fresh. It is
// for tests only.
package viewtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/pullmedic/pullmedic/internal/faultproxy"
	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
)

const (
	accountID = "123456789012" // moto's default
	region    = "eu-west-1"
)

// VPC is a VPC with one subnet in moto, behind a proxy that counts the calls.
type VPC struct {
	proxy  *faultproxy.Proxy
	subnet string
}

// NewVPC seeds the VPC and points the SDK's environment (AWS_ENDPOINT_URL,
// credentials, region) at the proxy, so that a function's handler built
// afterwards reads through it. Tests that use it must not run in parallel.
func NewVPC(t *testing.T) *VPC {
	t.Helper()
	motoserver.Reset(t)
	cfg := motoserver.Config(t, region)
	ctx := context.Background()
	c := ec2.NewFromConfig(cfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, aws.ToString(cfg.BaseEndpoint))
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": p.URL, "AWS_REGION": region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
	} {
		t.Setenv(k, v)
	}
	return &VPC{proxy: p, subnet: aws.ToString(s.Subnet.SubnetId)}
}

// task is a stopped Fargate task in the subnet; its other resources do not
// exist, which only makes their reads fail.
func (w *VPC) task(i int) *event.Task {
	cluster := fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/c", region, accountID)
	return &event.Task{
		Account: accountID, Region: region, ClusterArn: cluster, LaunchType: "FARGATE",
		TaskArn:           fmt.Sprintf("arn:aws:ecs:%s:%s:task/c/%032d", region, accountID, i),
		TaskDefinitionArn: fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/app:1", region, accountID),
		SubnetID:          w.subnet,
	}
}

// RouteTableReads diagnoses two tasks of the VPC in a row through v and
// returns how many times the VPC's route tables were read: 1 when v keeps
// them, 2 when it reads fresh.
func (w *VPC) RouteTableReads(t *testing.T, v account.View) int {
	t.Helper()
	for i := range 2 {
		f, err := v.Collect(context.Background(), w.task(i))
		if err != nil {
			t.Fatal(err)
		}
		if msg := f.Errors[account.SrcRouteTables]; msg != "" {
			t.Fatalf("route tables not read: %s", msg)
		}
	}
	return w.proxy.Count("ec2", "DescribeRouteTables")
}
