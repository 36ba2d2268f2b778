// Package state is pullmedic's DynamoDB table: processed event IDs, dedupe
// windows, remediation locks, the circuit breaker and change records. Every
// write is conditional, so 50 concurrent Lambda instances stay correct.
//
// One table, partition key "pk" (string), no sort key; "expiresAt" (epoch
// seconds) is the TTL attribute. Key prefixes:
//
//	event#<eventId>                      processed EventBridge event IDs
//	dedupe#<cluster>#<group>#<class>     one notification window (see dedupe.go)
//	lock#<cluster>#<service>             one remediation at a time
//	fixes#<cluster>#<service>            applied fixes, for the circuit breaker
//	change#<changeId>                    audit record of one applied change
package state

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// DynamoDB is the narrow part of the DynamoDB client the table uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Table is the state table.
type Table struct {
	DB   DynamoDB
	Name string
	// Now is the clock; tests move it.
	Now func() time.Time
	// Window is the dedupe window; DefaultWindow when zero.
	Window time.Duration
}

// New returns a table using the real clock.
func New(db DynamoDB, name string) *Table {
	return &Table{DB: db, Name: name, Now: time.Now}
}

// Key attribute names.
const (
	attrPK      = "pk"
	attrExpires = "expiresAt"
)

// conditionFailed reports whether a conditional write lost: the expected
// outcome of a race between instances, not a fault.
func conditionFailed(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ConditionalCheckFailedException"
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
