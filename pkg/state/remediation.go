package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrLocked means another remediation of the same service holds the lock.
var ErrLocked = errors.New("another remediation of this service is in progress")

// ErrChangeNotFound means no change record has the ID asked for.
var ErrChangeNotFound = errors.New("no such change")

// FixWindow is how far back the circuit breaker counts applied fixes.
const FixWindow = 24 * time.Hour

// Lock takes the remediation lock of a service until ttl passes. It returns
// ErrLocked while another owner holds an unexpired lock; an expired lock is
// taken over, since DynamoDB's TTL deletes items only eventually. An owner
// that finds the lock its own (the SDK retried a write whose answer was lost)
// holds it. unlock releases the lock if it is still ours.
func (t *Ledger) Lock(ctx context.Context, cluster Cluster, service, owner string, ttl time.Duration) (unlock func(context.Context) error, err error) {
	key := PrefixLock + cluster.key() + "#" + service
	now := t.Now()
	_, err = t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(t.Name),
		Item: map[string]types.AttributeValue{
			attrPK: str(key), "owner": str(owner), attrExpires: num(now.Add(ttl).Unix()),
		},
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #exp < :now"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK, "#exp": attrExpires},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": num(now.Unix())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if found, failed := failedOn(err); failed {
		if held, _ := found["owner"].(*types.AttributeValueMemberS); held == nil || held.Value != owner {
			return nil, ErrLocked
		}
	} else if err != nil {
		return nil, fmt.Errorf("take lock %s: %w", key, err)
	}
	return func(ctx context.Context) error {
		_, err := t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 aws.String(t.Name),
			Key:                       map[string]types.AttributeValue{attrPK: str(key)},
			ConditionExpression:       aws.String("#owner = :owner"),
			ExpressionAttributeNames:  map[string]string{"#owner": "owner"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner)},
		})
		if conditionFailed(err) {
			return nil // expired and taken over: no longer ours to release
		}
		if err != nil {
			return fmt.Errorf("release lock %s: %w", key, err)
		}
		return nil
	}, nil
}

// Fix is one remediation that applied changes to a service.
type Fix struct {
	At       time.Time `dynamodbav:"at,unixtime"`
	Cause    string    `dynamodbav:"cause"`
	Verified bool      `dynamodbav:"verified"`
	Changes  []string  `dynamodbav:"changes,omitempty"`
}

// fixesItem is the circuit breaker's record of one service. Version makes
// concurrent appends safe without a lock.
type fixesItem struct {
	PK        string `dynamodbav:"pk"`
	Fixes     []Fix  `dynamodbav:"fixes"`
	Version   int64  `dynamodbav:"version"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// VerifiedFix returns the verified fix of cause among recent fixes. A cause
// that comes back after one is escalated to a person, not fixed again.
func VerifiedFix(recent []Fix, cause string) (Fix, bool) {
	for _, f := range recent {
		if f.Verified && f.Cause == cause && cause != "" {
			return f, true
		}
	}
	return Fix{}, false
}

func fixesKey(cluster Cluster, service string) string {
	return PrefixFixes + cluster.key() + "#" + service
}

// RecentFixes returns the fixes applied to a service within FixWindow, oldest first.
func (t *Ledger) RecentFixes(ctx context.Context, cluster Cluster, service string) ([]Fix, error) {
	it, err := t.fixes(ctx, fixesKey(cluster, service))
	if err != nil {
		return nil, err
	}
	return it.Fixes, nil
}

// fixes reads a service's record with the fixes outside the window dropped.
func (t *Ledger) fixes(ctx context.Context, key string) (fixesItem, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(t.Name), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{attrPK: str(key)},
	})
	if err != nil {
		return fixesItem{}, fmt.Errorf("read %s: %w", key, err)
	}
	it := fixesItem{PK: key}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return fixesItem{}, fmt.Errorf("decode %s: %w", key, err)
	}
	since := t.Now().Add(-FixWindow)
	recent := it.Fixes[:0]
	for _, f := range it.Fixes {
		if f.At.After(since) {
			recent = append(recent, f)
		}
	}
	it.Fixes = recent
	return it, nil
}

// RecordFix appends a fix to the service's record, dropping fixes older than
// FixWindow so the item stays small. A concurrent append makes it retry.
func (t *Ledger) RecordFix(ctx context.Context, cluster Cluster, service string, f Fix) error {
	key := fixesKey(cluster, service)
	for range 5 {
		it, err := t.fixes(ctx, key)
		if err != nil {
			return err
		}
		if recorded(it.Fixes, f) {
			return nil // an earlier try of the same request recorded it
		}
		prev := it.Version
		it.Fixes = append(it.Fixes, f)
		it.Version++
		it.ExpiresAt = f.At.Add(FixWindow).Unix()
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return fmt.Errorf("encode %s: %w", key, err)
		}
		_, err = t.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(t.Name), Item: item,
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #v = :v"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(prev)},
		})
		switch {
		case err == nil:
			return nil
		case !conditionFailed(err):
			return fmt.Errorf("write %s: %w", key, err)
		}
	}
	return fmt.Errorf("write %s: too many concurrent updates", key)
}

// recorded reports whether a fix with the same changes is in the list.
func recorded(fixes []Fix, f Fix) bool {
	return len(f.Changes) > 0 && slices.ContainsFunc(fixes, func(g Fix) bool { return slices.Equal(g.Changes, f.Changes) })
}

// jsonTags makes a stored record carry the same attribute names as its JSON.
func jsonTags(o *attributevalue.EncoderOptions) { o.TagKey = "json" }

// PutChange stores the audit record of one applied change under
// change#<id>. rec is encoded by its json tags. An existing record is never
// overwritten: audit records are write-once, and change IDs are derived from
// the request, so a record that exists is this change's, stored by an
// earlier try of the same request (a duplicate counts as success).
func (t *Ledger) PutChange(ctx context.Context, id string, rec any) error {
	return t.put(ctx, PrefixChange+id, rec, true)
}

// GetChange reads the record stored by PutChange into rec. It returns
// ErrChangeNotFound when there is none.
func (t *Ledger) GetChange(ctx context.Context, id string, rec any) error {
	found, err := t.get(ctx, PrefixChange+id, rec)
	if err == nil && !found {
		err = fmt.Errorf("change %s: %w", id, ErrChangeNotFound)
	}
	return err
}

// RunTTL is how long a request's write-ahead record is kept: longer than
// Lambda retries an asynchronous event (6 hours at most).
const RunTTL = 24 * time.Hour

// PutRun stores the write-ahead record of one remediate request under
// run#<id>, replacing the previous one: the service's lock serialises the
// tries of a request.
func (t *Ledger) PutRun(ctx context.Context, id string, rec any) error {
	return t.put(ctx, PrefixRun+id, rec, false)
}

// GetRun reads the record stored by PutRun into rec; found is false when there is none.
func (t *Ledger) GetRun(ctx context.Context, id string, rec any) (found bool, err error) {
	return t.get(ctx, PrefixRun+id, rec)
}

// put writes rec (encoded by its json tags) under key; once means never
// overwrite, and an existing item then counts as written.
func (t *Ledger) put(ctx context.Context, key string, rec any, once bool) error {
	item, err := attributevalue.MarshalMapWithOptions(rec, jsonTags)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	item[attrPK] = str(key)
	in := &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: item}
	if once {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = map[string]string{"#pk": attrPK}
	} else {
		item[attrExpires] = num(t.Now().Add(RunTTL).Unix())
	}
	_, err = t.DB.PutItem(ctx, in)
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// get reads the item under key into rec (decoded by its json tags).
func (t *Ledger) get(ctx context.Context, key string, rec any) (bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(t.Name), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{attrPK: str(key)},
	})
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	if out.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMapWithOptions(out.Item, rec, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}
