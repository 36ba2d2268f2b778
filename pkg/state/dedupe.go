package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A dedupe record is one notification window of one failing service (or task
// family). The first failed task opens it and is diagnosed and notified; the
// others inside the window only add to its count; the first one after the
// window rolls it over and sends "still failing" with a fresh diagnosis.
//
// The key holds the reason class of the stop reason, not the diagnosed cause:
// the cause is known only after a diagnosis, and a storm must be diagnosed
// once. The diagnosed cause is stored in the record once it is notified.

// DefaultWindow is the dedupe window when Table.Window is zero.
const DefaultWindow = 30 * time.Minute

// ProblemMemory is how long a notified problem is remembered after its window
// ends, so that a deployment that fixes it can still say "resolved".
const ProblemMemory = 7 * 24 * time.Hour

// Cluster is one ECS cluster in one account and region. Every key of a
// cluster's records starts with all three, so that the same cluster name in
// two accounts (or two regions) never shares a window, a lock or a fix count.
type Cluster struct {
	Account string
	Region  string
	Name    string
}

func (c Cluster) key() string { return c.Account + "#" + c.Region + "#" + c.Name }

// DedupeKey names the window of one problem.
type DedupeKey struct {
	Cluster Cluster
	Group   string // "service:NAME" or "family:NAME"
	Class   string // reason class of the stop reason
}

func (k DedupeKey) key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(PrefixDedupe + k.Cluster.key() + "#" + k.Group + "#" + k.Class)}
}

// Outcome says what Count did with a failed task.
type Outcome int

const (
	// Opened: the task opened a new window; diagnose and notify.
	Opened Outcome = iota
	// Counted: the task fell inside an open window; it was only counted.
	Counted
	// Rolled: the task is the first after a notified window; diagnose and
	// send "still failing" for the previous window's tasks.
	Rolled
)

// Window is one notification window as Count or OpenWindows saw it.
type Window struct {
	Key     DedupeKey
	Outcome Outcome
	// Count is the number of failed tasks in the window; for Rolled, in the
	// previous window (the task that rolled it is the first of the new one).
	Count int
	// Since is when the window's first task failed (Rolled: the previous window's).
	Since time.Time
	// Cause is the cause notified for the window (Rolled: the previous one);
	// "" while the first diagnosis is still running.
	Cause string

	id   string                          // windowId: the event that opened the window
	prev *record                         // Rolled: the previous window, to undo the roll
	item map[string]types.AttributeValue // OpenWindows: the stored item, to reopen it
}

// record is the stored window.
type record struct {
	WindowID    string    `dynamodbav:"windowId"`
	WindowStart time.Time `dynamodbav:"windowStart,unixtime"`
	FirstTask   time.Time `dynamodbav:"firstTask,unixtime"`
	Count       int       `dynamodbav:"count"`
	Cause       string    `dynamodbav:"cause"`
	NotifiedAt  time.Time `dynamodbav:"notifiedAt,unixtime"`
	ExpiresAt   time.Time `dynamodbav:"expiresAt,unixtime"`
}

// names are the record's attribute names in expressions (count is reserved).
var names = map[string]string{
	"#pk": attrPK, "#id": "windowId", "#start": "windowStart", "#first": "firstTask",
	"#count": "count", "#cause": "cause", "#notified": "notifiedAt", "#exp": attrExpires, "#tok": attrToken,
}

// only returns the expression names an expression uses: DynamoDB rejects unused ones.
func only(keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = names[k]
	}
	return out
}

func (t *Table) window() time.Duration {
	if t.Window > 0 {
		return t.Window
	}
	return DefaultWindow
}

// Count adds one failed task (identified by its event ID, failed at taskTime)
// to the window of key, opening or rolling the window as needed. Exactly one
// caller gets Opened or Rolled per window, however many run at once.
func (t *Table) Count(ctx context.Context, key DedupeKey, eventID string, taskTime time.Time) (*Window, error) {
	if taskTime.IsZero() {
		taskTime = t.Now()
	}
	// Losing a roll to another instance (or a close) means counting again.
	for range 5 {
		rec, err := t.add(ctx, key, eventID, taskTime)
		if err == nil {
			w := &Window{Key: key, Outcome: Counted, Count: rec.Count, Since: rec.FirstTask, Cause: rec.Cause, id: rec.WindowID}
			if rec.WindowID == eventID {
				w.Outcome = Opened
			}
			return w, nil
		}
		if !conditionFailed(err) {
			return nil, err
		}
		prev, err := t.roll(ctx, key, eventID, taskTime)
		switch {
		case errors.Is(err, errRolledBlind) || err == nil && prev.NotifiedAt.IsZero():
			// The previous window is unknown, or was never notified (its
			// instance died): this task opens a fresh one.
			return &Window{Key: key, Outcome: Opened, Count: 1, Since: taskTime, id: eventID}, nil
		case err == nil:
			return &Window{Key: key, Outcome: Rolled, Count: prev.Count, Since: prev.FirstTask, Cause: prev.Cause, id: eventID, prev: prev}, nil
		case !conditionFailed(err):
			return nil, err
		}
	}
	return nil, fmt.Errorf("count %s: too many concurrent updates", key.Group)
}

// errRolledBlind: a retried roll found that its first try went through, but
// the previous window it returned was lost with the answer.
var errRolledBlind = errors.New("rolled the window, but its previous state is lost")

// openValues are the values add and roll write, with the write's token.
func (t *Table) openValues(eventID string, taskTime time.Time) (map[string]types.AttributeValue, string) {
	now, tok := t.Now(), newToken()
	return map[string]types.AttributeValue{
		":one": num(1), ":id": str(eventID), ":now": num(now.Unix()), ":first": num(taskTime.Unix()), ":tok": str(tok),
		":exp": num(now.Add(t.window() + ProblemMemory).Unix()), ":cutoff": num(now.Add(-t.window()).Unix()),
	}, tok
}

// add counts the task in the current window, creating it if there is none. It
// fails its condition when the window is over.
func (t *Table) add(ctx context.Context, key DedupeKey, eventID string, taskTime time.Time) (*record, error) {
	values, tok := t.openValues(eventID, taskTime)
	out, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Name),
		Key:       key.key(),
		UpdateExpression: aws.String("ADD #count :one SET #id = if_not_exists(#id, :id), #start = if_not_exists(#start, :now), " +
			"#first = if_not_exists(#first, :first), #exp = if_not_exists(#exp, :exp), #tok = :tok"),
		// The token condition keeps a retry of a write that went through from counting twice.
		ConditionExpression:                 aws.String("(attribute_not_exists(#pk) OR #start > :cutoff) AND NOT #tok = :tok"),
		ExpressionAttributeNames:            only("#pk", "#id", "#start", "#first", "#count", "#exp", "#tok"),
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var item map[string]types.AttributeValue
	found, failed := failedOn(err)
	switch {
	case failed && wroteBy(found, tok):
		item = found // our own earlier try
	case failed:
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("count %s: %w", key.Group, err)
	default:
		item = out.Attributes
	}
	var rec record
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return nil, fmt.Errorf("decode window %s: %w", key.Group, err)
	}
	return &rec, nil
}

// roll replaces a window that is over with a new one opened by this task, and
// returns the old one. It fails its condition when another task rolled it first.
func (t *Table) roll(ctx context.Context, key DedupeKey, eventID string, taskTime time.Time) (*record, error) {
	values, tok := t.openValues(eventID, taskTime)
	out, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Name),
		Key:       key.key(),
		UpdateExpression: aws.String("SET #id = :id, #start = :now, #first = :first, #count = :one, #exp = :exp, #tok = :tok " +
			"REMOVE #cause, #notified"),
		ConditionExpression:                 aws.String("#start <= :cutoff"),
		ExpressionAttributeNames:            only("#id", "#start", "#first", "#count", "#exp", "#tok", "#cause", "#notified"),
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if found, ok := failedOn(err); ok && wroteBy(found, tok) {
		return nil, errRolledBlind
	}
	if err != nil {
		if conditionFailed(err) {
			return nil, err
		}
		return nil, fmt.Errorf("roll %s: %w", key.Group, err)
	}
	var prev record
	if err := attributevalue.UnmarshalMap(out.Attributes, &prev); err != nil {
		return nil, fmt.Errorf("decode window %s: %w", key.Group, err)
	}
	return &prev, nil
}

// ours is the condition that the window is still the one w names.
func ours(w *Window) (*string, map[string]types.AttributeValue) {
	return aws.String("#id = :wid"), map[string]types.AttributeValue{":wid": str(w.id)}
}

// Notified records that the window's notice went out, with the diagnosed
// cause. A window closed or rolled meanwhile is left alone.
func (t *Table) Notified(ctx context.Context, w *Window, cause string) error {
	cond, values := ours(w)
	values[":cause"], values[":now"] = str(cause), num(t.Now().Unix())
	_, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(t.Name),
		Key:                       w.Key.key(),
		UpdateExpression:          aws.String("SET #cause = :cause, #notified = :now"),
		ConditionExpression:       cond,
		ExpressionAttributeNames:  only("#id", "#cause", "#notified"),
		ExpressionAttributeValues: values,
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("mark %s notified: %w", w.Key.Group, err)
	}
	return nil
}

// Undo takes back what Count did for a task whose notice could not be sent,
// so that the retry of the same event opens (or rolls) the window again.
func (t *Table) Undo(ctx context.Context, w *Window) error {
	var err error
	switch w.Outcome {
	case Opened:
		_, err = t.Close(ctx, w)
	case Rolled:
		p := w.prev
		cond, values := ours(w)
		values[":pid"], values[":start"], values[":first"] = str(p.WindowID), num(p.WindowStart.Unix()), num(p.FirstTask.Unix())
		values[":cause"], values[":notified"], values[":exp"] = str(p.Cause), num(p.NotifiedAt.Unix()), num(p.ExpiresAt.Unix())
		// The tasks counted since the roll stay; this one will be counted again.
		values[":delta"] = num(int64(p.Count - 1))
		_, err = t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(t.Name),
			Key:       w.Key.key(),
			UpdateExpression: aws.String("SET #id = :pid, #start = :start, #first = :first, #cause = :cause, " +
				"#notified = :notified, #exp = :exp ADD #count :delta"),
			ConditionExpression:       cond,
			ExpressionAttributeNames:  only("#id", "#start", "#first", "#cause", "#notified", "#exp", "#count"),
			ExpressionAttributeValues: values,
		})
		if conditionFailed(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("undo window %s: %w", w.Key.Group, err)
	}
	return nil
}

// OpenWindows returns the notified, unexpired windows of a service or task
// family, one per reason class given.
func (t *Table) OpenWindows(ctx context.Context, cluster Cluster, group string, classes []string) ([]*Window, error) {
	var out []*Window
	for _, class := range classes {
		key := DedupeKey{Cluster: cluster, Group: group, Class: class}
		got, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(t.Name), Key: key.key(), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("read window %s/%s: %w", group, class, err)
		}
		var rec record
		if err := attributevalue.UnmarshalMap(got.Item, &rec); err != nil {
			return nil, fmt.Errorf("decode window %s/%s: %w", group, class, err)
		}
		// TTL deletes late, so an expired item may still be there.
		if got.Item == nil || rec.NotifiedAt.IsZero() || !rec.ExpiresAt.After(t.Now()) {
			continue
		}
		out = append(out, &Window{Key: key, Count: rec.Count, Since: rec.FirstTask, Cause: rec.Cause, id: rec.WindowID, item: got.Item})
	}
	return out, nil
}

// Close ends a window whose problem is resolved, if it is still the same
// window. It reports whether this call closed it, so one caller says
// "resolved". A window found gone counts as closed by this call: a retry
// whose first try went through sees it so, and a second "resolved" beats none.
func (t *Table) Close(ctx context.Context, w *Window) (bool, error) {
	cond, values := ours(w)
	_, err := t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           aws.String(t.Name),
		Key:                                 w.Key.key(),
		ConditionExpression:                 cond,
		ExpressionAttributeNames:            only("#id"),
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if found, ok := failedOn(err); ok {
		return found == nil, nil
	}
	if err != nil {
		return false, fmt.Errorf("close window %s: %w", w.Key.Group, err)
	}
	return true, nil
}

// Reopen puts back a window from OpenWindows that Close removed, when the
// "resolved" notice could not be sent; a window opened since wins.
func (t *Table) Reopen(ctx context.Context, w *Window) error {
	_, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(t.Name),
		Item:                     w.item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: only("#pk"),
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("reopen window %s: %w", w.Key.Group, err)
	}
	return nil
}
