// Package state is pullmedic's DynamoDB table: processed event IDs, dedupe
// windows, remediation locks, the circuit breaker and change records. Every
// write is conditional, so 50 concurrent Lambda instances stay correct.
//
// One table, partition key "pk" (string), no sort key; "expiresAt" (epoch
// seconds) is the TTL attribute. Key prefixes:
//
//	event#<eventId>                      processed EventBridge event IDs
//	dedupe#<cluster>#<group>#<class>     one notification window (see dedupe.go)
//	delivery#<noticeId>#<channel>        one notice delivered on one channel
//	lock#<cluster>#<service>             one remediation at a time
//	fixes#<cluster>#<service>            applied fixes, for the circuit breaker
//	change#<changeId>                    audit record of one change (write-ahead)
//	run#<requestId>                      the changes one remediate request made
//	approval#<approvalId>                a fix plan waiting for a person's click in Slack (approvals.go)
//
// <cluster> is <account>#<region>#<name> (Cluster), and a notice ID starts
// with it: a hub serves many accounts and regions, whose cluster names repeat.
//
// The diagnose function writes only the first three and reads fixes#; the
// remediate function only the last four. template.yaml fences each role to
// its own prefixes (dynamodb:LeadingKeys), from DiagnoseKeys and RemediateKeys.
// approval# is the approve function's (ApproveKeys): diagnose only puts a new
// approval there, approve only records the decision on it.
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

// Key prefixes, the one place they are spelled.
const (
	PrefixEvent    = "event#"
	PrefixDedupe   = "dedupe#"
	PrefixDelivery = "delivery#"
	PrefixLock     = "lock#"
	PrefixFixes    = "fixes#"
	PrefixChange   = "change#"
	PrefixRun      = "run#"
	PrefixApproval = "approval#"
)

// DiagnoseKeys are the prefixes the diagnose function writes; it also reads
// PrefixFixes, to escalate a cause that came back after a fix.
var DiagnoseKeys = []string{PrefixEvent, PrefixDedupe, PrefixDelivery}

// RemediateKeys are the prefixes the remediate function reads and writes.
var RemediateKeys = []string{PrefixLock, PrefixFixes, PrefixChange, PrefixRun}

// ApproveKeys are the prefixes the approve function writes (UpdateItem
// only); the diagnose function also puts new items under PrefixApproval.
var ApproveKeys = []string{PrefixApproval}

// ItemStore is the part of the DynamoDB client a Ledger uses: the remediate
// function's calls, and all its role is granted.
type ItemStore interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// DynamoDB is the part of the DynamoDB client a Table uses: the diagnose
// function's calls.
type DynamoDB interface {
	ItemStore
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Table is the state table as the diagnose function uses it.
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

// Ledger is the state table as the remediate function uses it: locks, the
// circuit breaker and change records.
type Ledger struct {
	DB   ItemStore
	Name string
	// Now is the clock; tests move it.
	Now func() time.Time
}

// NewLedger returns a ledger using the real clock.
func NewLedger(db ItemStore, name string) *Ledger {
	return &Ledger{DB: db, Name: name, Now: time.Now}
}

// ledger is the table's view of the remediate function's records.
func (t *Table) ledger() *Ledger { return &Ledger{DB: t.DB, Name: t.Name, Now: t.Now} }

// RecentFixes is Ledger.RecentFixes: the diagnose function escalates a cause
// that came back after a verified fix.
func (t *Table) RecentFixes(ctx context.Context, cluster Cluster, service string) ([]Fix, error) {
	return t.ledger().RecentFixes(ctx, cluster, service)
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
