package account

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/pullmedic/pullmedic/pkg/event"
)

func TestSnapshotViewCollect(t *testing.T) {
	snap, err := ReadSnapshotFile(cliSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	snap.Region, snap.Account = "", ""
	task := &event.Task{TaskArn: "arn:aws:ecs:eu-west-1:210987654321:task/payments/1", SubnetID: "subnet-0c9d8e7f6a5b4c3d2"}
	var view View = SnapshotView{Snap: snap}

	f, err := view.Collect(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	if f.Task != task || f.Errors != nil || f.Region != "" || f.Account != "" {
		t.Errorf("facts: task %p (want %p), errors %v, region %q, account %q", f.Task, task, f.Errors, f.Region, f.Account)
	}
	if f.TaskSubnet() == nil {
		t.Fatal("the task's subnet is not in the collected facts")
	}
	// Remediating the facts must not change the view's snapshot.
	sg := f.SecurityGroup("sg-0aa11bb22cc33dd44")
	sg.IpPermissions = append(sg.IpPermissions, ec2types.IpPermission{IpProtocol: aws.String("tcp")})
	f.EC2.Subnets[0].MapPublicIpOnLaunch = aws.Bool(true)
	if len(snap.EC2.SecurityGroups[0].IpPermissions) != 0 || aws.ToBool(snap.EC2.Subnets[0].MapPublicIpOnLaunch) {
		t.Error("changing the facts changed the snapshot")
	}

	// A resource missing from a half-filled snapshot is "not found", not an error.
	f, err = SnapshotView{Snap: &Snapshot{Schema: SchemaV1}}.Collect(context.Background(), task)
	if err != nil || f.TaskSubnet() != nil || f.Errors != nil {
		t.Errorf("empty snapshot: facts %+v, err %v", f, err)
	}
}

func TestSnapshotViewWithoutSnapshot(t *testing.T) {
	if _, err := (SnapshotView{}).Collect(context.Background(), &event.Task{}); err == nil {
		t.Error("no error without a snapshot")
	}
}
