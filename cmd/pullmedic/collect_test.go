package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/pkg/event"
)

// fakeTasks answers DescribeTasks with fixed tasks and failures.
type fakeTasks struct {
	tasks    []ecstypes.Task
	failures []ecstypes.Failure
}

func (f fakeTasks) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return &ecs.DescribeTasksOutput{Tasks: f.tasks, Failures: f.failures}, nil
}

func stoppedTask(reason string) ecstypes.Task {
	return ecstypes.Task{
		TaskArn:           aws.String("arn:aws:ecs:eu-west-1:111122223333:task/shop/5d2e8f9a0b1c4d3e8f7a6b5c4d3e2f1a"),
		ClusterArn:        aws.String("arn:aws:ecs:eu-west-1:111122223333:cluster/shop"),
		TaskDefinitionArn: aws.String("arn:aws:ecs:eu-west-1:111122223333:task-definition/web:12"),
		Group:             aws.String("service:web"),
		LaunchType:        ecstypes.LaunchTypeFargate,
		PlatformVersion:   aws.String("1.4.0"),
		LastStatus:        aws.String("STOPPED"),
		StopCode:          ecstypes.TaskStopCodeTaskFailedToStart,
		StoppedReason:     aws.String(reason),
		Attachments: []ecstypes.Attachment{{
			Type: aws.String("ElasticNetworkInterface"), Status: aws.String("DELETED"),
			Details: []ecstypes.KeyValuePair{
				{Name: aws.String("subnetId"), Value: aws.String("subnet-0a1b2c3d4e5f60718")},
				{Name: aws.String("networkInterfaceId"), Value: aws.String("eni-0a7b8c9d0e1f23456")},
				{Name: aws.String("privateIPv4Address"), Value: aws.String("10.20.10.37")},
			},
		}},
		Containers: []ecstypes.Container{{Name: aws.String("web"), Image: aws.String("111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.4.2"), LastStatus: aws.String("STOPPED")}},
	}
}

// taskFields are the parts of event.Task a collect by ID must fill.
type taskFields struct {
	Account, Region, Service, SubnetID, ENIID, PrivateIP, Failure string
	Class                                                         event.ReasonClass
}

func TestDescribeTask(t *testing.T) {
	const timeout = `CannotPullContainerError: failed to do request: Get "https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/v2/": dial tcp 52.95.150.10:443: i/o timeout`
	tests := []struct {
		name    string
		api     fakeTasks
		want    taskFields
		wantErr string
	}{
		{name: "pull failure", api: fakeTasks{tasks: []ecstypes.Task{stoppedTask(timeout)}},
			want: taskFields{Account: "111122223333", Region: "eu-west-1", Service: "web", SubnetID: "subnet-0a1b2c3d4e5f60718",
				ENIID: "eni-0a7b8c9d0e1f23456", PrivateIP: "10.20.10.37", Failure: timeout, Class: event.ClassNetwork}},
		{name: "other stop is still collected", api: fakeTasks{tasks: []ecstypes.Task{stoppedTask("Essential container in task exited")}},
			want: taskFields{Account: "111122223333", Region: "eu-west-1", Service: "web", SubnetID: "subnet-0a1b2c3d4e5f60718",
				ENIID: "eni-0a7b8c9d0e1f23456", PrivateIP: "10.20.10.37", Failure: "Essential container in task exited", Class: event.ClassUnknown}},
		{name: "missing", api: fakeTasks{failures: []ecstypes.Failure{{Reason: aws.String("MISSING")}}}, wantErr: "task 5d2e in cluster shop: MISSING"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := describeTask(context.Background(), tc.api, "eu-west-1", "shop", "5d2e")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checked := taskFields{Account: got.Account, Region: got.Region, Service: got.Service, SubnetID: got.SubnetID,
				ENIID: got.ENIID, PrivateIP: got.PrivateIP, Failure: got.Failure, Class: got.Class}
			if checked != tc.want {
				t.Errorf("task = %+v\nwant   %+v", checked, tc.want)
			}
		})
	}
}
