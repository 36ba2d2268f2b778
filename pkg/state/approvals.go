package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// An approval record is a fix plan that waits for a person. On a cluster
// tagged pullmedic:auto-fix=approve, the diagnose function writes one when it
// posts the plan to Slack with "Apply fix" and "Dismiss" buttons, and hands
// nothing to remediate. The buttons carry only the approval's ID. The approve
// function records the one decision an approval gets (a conditional update,
// so a replayed or second click changes nothing) and, for "Apply fix", hands
// the stored request to remediate, which diagnoses again on fresh state.

// ApprovalTTL is how long an approval may be decided after it is posted.
const ApprovalTTL = time.Hour

// approvalKept is how long an approval record stays after it expires: who
// applied or dismissed a fix is worth keeping beyond the hour.
const approvalKept = 7 * 24 * time.Hour

// Decision is what a person decided about an approval.
type Decision string

const (
	DecisionApply   Decision = "apply"
	DecisionDismiss Decision = "dismiss"
)

// Approval is the stored record. Request is the remediate request (a
// fix.Request in JSON) that an "Apply fix" hands on: the event and the plan
// diagnose saw, which remediate compares with a fresh diagnosis and never
// obeys.
type Approval struct {
	ID         string    `dynamodbav:"approvalId"`
	Request    string    `dynamodbav:"request"`
	Cluster    string    `dynamodbav:"cluster"`
	Group      string    `dynamodbav:"group"`
	Cause      string    `dynamodbav:"cause"`
	PostedAt   time.Time `dynamodbav:"postedAt,unixtime"`
	ValidUntil time.Time `dynamodbav:"validUntil,unixtime"`
	// The decision, once made: who (a Slack user ID) and when.
	Decision  Decision   `dynamodbav:"decision,omitempty"`
	DecidedBy string     `dynamodbav:"decidedBy,omitempty"`
	DecidedAt *time.Time `dynamodbav:"decidedAt,unixtime,omitempty"`
}

// Errors of Decide. Each comes with the record as found, when there is one.
var (
	ErrApprovalNotFound = errors.New("no such approval")
	ErrApprovalDecided  = errors.New("the approval is already decided")
	ErrApprovalExpired  = errors.New("the approval has expired")
)

// approvalIDPattern is what ApprovalID makes: what a button may carry.
var approvalIDPattern = regexp.MustCompile(`^apr-[0-9a-f]{24}$`)

// ApprovalID names the approval of a notice. It is derived, so the retry of
// the diagnose invocation that posted it finds the same record (and keeps a
// decision already made on it).
func ApprovalID(noticeID string) string {
	sum := sha256.Sum256([]byte(noticeID))
	return "apr-" + hex.EncodeToString(sum[:])[:24]
}

// ValidApprovalID reports whether s has the form of an approval ID.
func ValidApprovalID(s string) bool { return approvalIDPattern.MatchString(s) }

func approvalKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(PrefixApproval + id)}
}

// PutApproval stores a new approval, valid for ApprovalTTL. An approval
// already stored under its ID (an earlier try of the same invocation) is
// kept as it is, with any decision made on it, and a is set to it.
func (t *Table) PutApproval(ctx context.Context, a *Approval) error {
	if !ValidApprovalID(a.ID) {
		return fmt.Errorf("put approval: %q is not an approval ID", a.ID)
	}
	a.PostedAt = t.Now()
	a.ValidUntil = a.PostedAt.Add(ApprovalTTL)
	item, err := attributevalue.MarshalMap(a)
	if err != nil {
		return fmt.Errorf("encode approval %s: %w", a.ID, err)
	}
	item[attrPK] = approvalKey(a.ID)[attrPK]
	item[attrExpires] = num(a.ValidUntil.Add(approvalKept).Unix())
	_, err = t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(t.Name),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if found, ok := failedOn(err); ok && found != nil {
		if err := attributevalue.UnmarshalMap(found, a); err != nil {
			return fmt.Errorf("decode approval %s: %w", a.ID, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("put approval %s: %w", a.ID, err)
	}
	return nil
}

// ApprovalStore is the part of the DynamoDB client the approve function
// uses, and all its role is granted: one conditional update decides an
// approval and returns it, so it needs no read.
type ApprovalStore interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Approvals is the state table as the approve function uses it.
type Approvals struct {
	DB   ApprovalStore
	Name string
	// Now is the clock; tests move it.
	Now func() time.Time
}

// NewApprovals returns the approvals of a table, using the real clock.
func NewApprovals(db ApprovalStore, name string) *Approvals {
	return &Approvals{DB: db, Name: name, Now: time.Now}
}

// Decide records a person's decision on an approval, if it exists, is
// undecided and has not expired, and returns the approval as decided. It is
// the replay guard: of any number of clicks, replays and concurrent
// invocations, exactly one decides. Otherwise it returns ErrApprovalNotFound,
// ErrApprovalDecided (with the approval, to say who decided what) or
// ErrApprovalExpired (with the approval).
func (a *Approvals) Decide(ctx context.Context, id string, d Decision, by string) (*Approval, error) {
	if !ValidApprovalID(id) {
		return nil, fmt.Errorf("decide %q: %w", id, ErrApprovalNotFound)
	}
	now := a.Now()
	out, err := a.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(a.Name),
		Key:              approvalKey(id),
		UpdateExpression: aws.String("SET #decision = :d, #by = :by, #at = :now"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#decision) " +
			"AND #valid > :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#decision": "decision", "#by": "decidedBy", "#at": "decidedAt", "#valid": "validUntil",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": str(string(d)), ":by": str(by), ":now": num(now.Unix()),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	found, failed := failedOn(err)
	var item map[string]types.AttributeValue
	switch {
	case failed:
		item = found
	case err != nil:
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	default:
		item = out.Attributes
	}
	if item == nil {
		return nil, fmt.Errorf("approval %s: %w", id, ErrApprovalNotFound)
	}
	var rec Approval
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return nil, fmt.Errorf("decode approval %s: %w", id, err)
	}
	switch {
	case !failed:
		return &rec, nil
	case rec.Decision != "":
		return &rec, fmt.Errorf("approval %s: %w", id, ErrApprovalDecided)
	default:
		return &rec, fmt.Errorf("approval %s: %w", id, ErrApprovalExpired)
	}
}

// Undecide takes back a decision to apply that could not be handed on (the
// remediate function could not be invoked), so that the person can click
// again. Only the decision by that person is taken back.
func (a *Approvals) Undecide(ctx context.Context, id, by string) error {
	_, err := a.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(a.Name),
		Key:                       approvalKey(id),
		UpdateExpression:          aws.String("REMOVE #decision, #by, #at"),
		ConditionExpression:       aws.String("#decision = :d AND #by = :by"),
		ExpressionAttributeNames:  map[string]string{"#decision": "decision", "#by": "decidedBy", "#at": "decidedAt"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(string(DecisionApply)), ":by": str(by)},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("take back the decision on approval %s: %w", id, err)
	}
	return nil
}
