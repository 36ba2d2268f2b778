package state

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// EventTTL is how long a processed event ID is remembered: EventBridge
// retries a delivery for up to 24 hours.
const EventTTL = 24 * time.Hour

// attrToken holds a random token of the write that last set the item. The
// SDK retries a write whose answer was lost; if the first try went through,
// the retry fails its condition, and the token tells it was our own write.
const attrToken = "writeToken"

func newToken() string { return rand.Text() }

// failedOn returns the item as a write that failed its condition found it
// (with ReturnValuesOnConditionCheckFailure ALL_OLD; nil when there was
// none). ok is false for any other error. The item is only on the typed error.
func failedOn(err error) (item map[string]types.AttributeValue, ok bool) {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, false
	}
	return ccf.Item, true
}

// wroteBy reports whether item was last written with token tok.
func wroteBy(item map[string]types.AttributeValue, tok string) bool {
	v, ok := item[attrToken].(*types.AttributeValueMemberS)
	return ok && v.Value == tok
}

func eventKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(PrefixEvent + id)}
}

// ClaimEvent records an EventBridge event ID as taken. It reports false when
// the ID was claimed before: EventBridge delivers at least once.
func (t *Table) ClaimEvent(ctx context.Context, id string) (bool, error) {
	tok := newToken()
	item := eventKey(id)
	item[attrExpires] = num(t.Now().Add(EventTTL).Unix())
	item[attrToken] = str(tok)
	_, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(t.Name),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if found, ok := failedOn(err); ok {
		return wroteBy(found, tok), nil
	}
	if err != nil {
		return false, fmt.Errorf("claim event %s: %w", id, err)
	}
	return true, nil
}

// ReleaseEvent forgets a claimed event, so that the retry of an invocation
// that failed is processed again instead of being dropped as a duplicate.
func (t *Table) ReleaseEvent(ctx context.Context, id string) error {
	_, err := t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(t.Name), Key: eventKey(id)})
	if err != nil {
		return fmt.Errorf("release event %s: %w", id, err)
	}
	return nil
}
