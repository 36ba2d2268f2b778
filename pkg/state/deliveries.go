package state

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A delivery record says that one notice went out on one channel. When a
// channel fails, the invocation fails and Lambda retries the event; the
// records make the retry send the notice only on the channels that lack it.
// A notice is named after its window (see Window.NoticeID), which the retry of the
// same event opens again under the same ID.

// DeliveryTTL is how long a delivery record is kept: as long as the event ID
// it outlives, since only a retry of that event looks for it.
const DeliveryTTL = EventTTL

// NoticeID names the notice of a kind about the window: its cluster (in its
// account and region), and the ID of the event that opened it or rolled it
// over. Lambda's retry of that event gets the window back under the same ID
// (the rollback undid it), so it finds the notice's delivery records.
func (w *Window) NoticeID(kind string) string { return w.Key.Cluster.key() + "#" + w.id + "#" + kind }

func deliveryKey(noticeID, channel string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(PrefixDelivery + noticeID + "#" + channel)}
}

// Delivered reports whether the notice went out on the channel. A record
// past its expiry but not yet removed still counts: it is at most a day
// late, and only a retry of the same event asks.
func (t *Table) Delivered(ctx context.Context, noticeID, channel string) (bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(t.Name), Key: deliveryKey(noticeID, channel), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("read delivery of %s on %s: %w", noticeID, channel, err)
	}
	return out.Item != nil, nil
}

// MarkDelivered records that the notice went out on the channel; call it
// only once the channel took the notice. The record is written once: finding
// it there (the SDK's retry of a write whose answer was lost) is no error.
func (t *Table) MarkDelivered(ctx context.Context, noticeID, channel string) error {
	now := t.Now()
	item := deliveryKey(noticeID, channel)
	item["deliveredAt"] = num(now.Unix())
	item[attrExpires] = num(now.Add(DeliveryTTL).Unix())
	_, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(t.Name),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("record delivery of %s on %s: %w", noticeID, channel, err)
	}
	return nil
}
