package state_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pullmedic/pullmedic/internal/statetest"
	"github.com/pullmedic/pullmedic/pkg/state"
)

func TestDeliveries(t *testing.T) {
	tbl, db := statetest.New(t)
	tbl.Now = at(0)
	ctx := context.Background()
	const notice = "ev-1#problem"
	steps := []struct {
		name            string
		mark            bool // MarkDelivered first
		notice, channel string
		want            bool
	}{
		{"nothing delivered yet", false, notice, "sns", false},
		{"delivered on SNS", true, notice, "sns", true},
		{"recorded twice: still one record, no error", true, notice, "sns", true},
		{"Slack has its own record", false, notice, "slack", false},
		{"another notice of the same window", false, "ev-1#still-failing", "sns", false},
		{"then Slack", true, notice, "slack", true},
	}
	for _, s := range steps {
		if s.mark {
			if err := tbl.MarkDelivered(ctx, s.notice, s.channel); err != nil {
				t.Fatalf("%s: MarkDelivered: %v", s.name, err)
			}
		}
		got, err := tbl.Delivered(ctx, s.notice, s.channel)
		if err != nil || got != s.want {
			t.Fatalf("%s: Delivered(%s, %s) = %v, %v; want %v", s.name, s.notice, s.channel, got, err, s.want)
		}
	}

	// The record is where the diagnose role may write, and expires with the event IDs.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(tbl.Name),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: state.PrefixDelivery + notice + "#sns"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN)
	if want := strconv.FormatInt(t0.Add(state.EventTTL).Unix(), 10); !ok || exp.Value != want {
		t.Fatalf("delivery record %v; want expiresAt %s", out.Item, want)
	}
}

// The table's failure is the caller's to handle (it sends anyway), not a
// "not delivered" in disguise.
func TestDeliveredFailsWithTheTable(t *testing.T) {
	_, db := statetest.New(t)
	tbl := state.New(db, "no-such-table")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tbl.Delivered(ctx, "ev-1#problem", "sns"); err == nil {
		t.Error("Delivered on a missing table: no error")
	}
	if err := tbl.MarkDelivered(ctx, "ev-1#problem", "sns"); err == nil {
		t.Error("MarkDelivered on a missing table: no error")
	}
}
