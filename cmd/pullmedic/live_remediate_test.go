package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

// TestLiveRemediateAndUndo runs remediate --apply and undo against moto, through
// the default credential chain as a person would: the tag is obeyed, --force
// changes the service through the state table, undo puts it back.
func TestLiveRemediateAndUndo(t *testing.T) {
	useMoto(t)
	ctx := context.Background()
	dir := t.TempDir()
	eventPath, changes := filepath.Join(dir, "event.json"), filepath.Join(dir, "changes.json")
	if err := os.WriteFile(eventPath, seedPublicSubnetService(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := motoserver.Config(t, motoRegion)
	const table = "pullmedic-state"
	_, err := dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dbtypes.KeyTypeHash}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	assignPublicIP := func() ecstypes.AssignPublicIp {
		t.Helper()
		out, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("shop"), Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe the service: %v", err)
		}
		return out.Services[0].NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp
	}

	// The cluster's tag says dry-run: nothing is changed.
	r := runCLI(t, "", "remediate", "--apply", "--event", eventPath, "--changes", changes)
	if res := decodeResult(t, mustRead(t, changes)); r.code != exitFailing || res.Mode != rules.ModeDryRun || len(res.Changes) != 0 {
		t.Fatalf("dry-run: exit %d, result %s, stderr: %s", r.code, mustRead(t, changes), r.stderr)
	}
	if got := assignPublicIP(); got != ecstypes.AssignPublicIpDisabled {
		t.Fatalf("dry-run changed assignPublicIp to %s", got)
	}

	r = runCLI(t, "", "remediate", "--apply", "--force", "--event", eventPath, "--table", table, "--format", "json")
	if r.code != exitOK {
		t.Fatalf("remediate --force: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	res := decodeResult(t, r.stdout)
	if len(res.Changes) != 1 || res.Actions[0].Status != fix.StatusVerified {
		t.Fatalf("result: %s", r.stdout)
	}
	if got := assignPublicIP(); got != ecstypes.AssignPublicIpEnabled {
		t.Fatalf("after remediate assignPublicIp is %s", got)
	}

	// Twice: the second undo finds it undone already and succeeds.
	for range 2 {
		u := runCLI(t, "", "undo", "--change", res.Changes[0].ChangeID, "--table", table, "--region", motoRegion)
		if u.code != exitOK || !strings.Contains(u.stdout, "assignPublicIp of "+res.Changes[0].Target+" is DISABLED") {
			t.Fatalf("undo: exit %d\nstdout:\n%s\nstderr:\n%s", u.code, u.stdout, u.stderr)
		}
		if got := assignPublicIP(); got != ecstypes.AssignPublicIpDisabled {
			t.Fatalf("after undo assignPublicIp is %s", got)
		}
	}
	u := runCLI(t, "", "undo", "--change", "chg-0000000000000000", "--table", table, "--region", motoRegion)
	if u.code != exitBadInput || !strings.HasPrefix(u.stderr, "pullmedic: state table "+table+": ") {
		t.Errorf("unknown change: exit %d, stderr %q", u.code, u.stderr)
	}
}
