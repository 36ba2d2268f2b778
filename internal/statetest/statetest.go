// Package statetest creates pullmedic's state table in moto, with the key
// schema and TTL attribute the SAM template gives it. It is for tests only.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pullmedic/pullmedic/internal/motoserver"
	"github.com/pullmedic/pullmedic/pkg/state"
)

var seq atomic.Int64

// New creates a fresh table in moto, under a name of its own so tests need no
// reset. The table's calls are serialized (see serial); the raw client is
// returned beside it.
func New(t testing.TB) (*state.Table, *dynamodb.Client) {
	t.Helper()
	db := dynamodb.NewFromConfig(motoserver.Config(t, "us-east-1"))
	name := create(t, db)
	return state.New(&serial{db: db}, name), db
}

// Via creates a fresh table in moto, as New does, and returns it reached
// through endpoint: a fault-injecting proxy in front of moto (faultproxy).
func Via(t testing.TB, endpoint string) *state.Table {
	t.Helper()
	cfg := motoserver.Config(t, "us-east-1")
	name := create(t, dynamodb.NewFromConfig(cfg))
	cfg.BaseEndpoint = aws.String(endpoint)
	return state.New(&serial{db: dynamodb.NewFromConfig(cfg)}, name)
}

// create creates the table with the key schema and TTL attribute of the SAM
// template, and returns its name.
func create(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("pullmedic-state-%d-%d", time.Now().UnixNano(), seq.Add(1))
	ctx := context.Background()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	// A retried CreateTable whose first answer was lost reports the table as in use: it is ours.
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		t.Fatalf("create state table: %v", err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)},
	})
	if err != nil {
		t.Fatalf("enable TTL: %v", err)
	}
	return name
}

// serial makes moto answer the table's calls one at a time. moto_server is
// threaded and does not lock items, so two concurrent conditional writes can
// both pass their condition, which DynamoDB never allows.
type serial struct {
	mu sync.Mutex
	db state.DynamoDB
}

func (s *serial) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.GetItem(ctx, in, opts...)
}

func (s *serial) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.PutItem(ctx, in, opts...)
}

func (s *serial) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.UpdateItem(ctx, in, opts...)
}

func (s *serial) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.DeleteItem(ctx, in, opts...)
}

// Ledger is the remediate function's view of the same table, so that a test
// can seed fixes and locks that the diagnose side then reads.
func Ledger(tbl *state.Table) *state.Ledger {
	return &state.Ledger{DB: tbl.DB, Name: tbl.Name, Now: tbl.Now}
}
