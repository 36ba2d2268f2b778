package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/rules"
	"github.com/pullmedic/pullmedic/pkg/state"
)

var undoCmd = &command{
	name:     "undo",
	synopsis: "--change CHANGE_ID (--changes RESULT.json|- | --table NAME) [--snapshot SNAP.json --out NEW_SNAP.json] [--region R]",
	summary:  "revert one change that remediate --apply made",
	details: `Reverts one change of "remediate --apply" (or of the remediate Lambda
function) by its change ID: it revokes exactly the security group rules the
change added, by their rule IDs, or puts the service's awsvpc configuration
(assignPublicIp) back as it was before. Undoing what is already undone
succeeds and changes nothing.

The change record comes from the result file that "remediate --apply
--changes" wrote (--changes), or from the pullmedic state table where the
Lambda and "remediate --apply --table" store it (--table; read with the
default credential chain, in --region or the configured region).

Without --snapshot the live account is changed, through the default
credential chain, in the region of the change's task (or --region). With
--snapshot the change is reverted in that snapshot (the one remediate wrote
with --out) and the result is written to --out; no AWS call is made unless
the record comes from --table.

Exit codes for undo: 0 reverted (or already reverted); 2 bad input (no such
change ID, unreadable result file or snapshot, a usage error); 1 anything
else (AWS access, writing --out).

Examples:
  pullmedic undo --change chg-3f2a9c1b7d4e5f60 --changes changes.json
  pullmedic undo --change chg-3f2a9c1b7d4e5f60 --table pullmedic-state --region eu-west-1
  pullmedic undo --change chg-3f2a9c1b7d4e5f60 --changes changes.json \
      --snapshot fixed.json --out restored.json`,
	define: func(fs *flag.FlagSet) func(context.Context, *cli) error {
		var u undoing
		fs.StringVar(&u.change, "change", "", "the `CHANGE_ID` to revert, as remediate printed it (required)")
		fs.StringVar(&u.changes, "changes", "", "read the change record from `RESULT.json`, written by remediate --apply --changes (- for standard input)")
		fs.StringVar(&u.table, "table", "", "read the change record from the pullmedic state `TABLE`")
		fs.StringVar(&u.snapshot, "snapshot", "", "revert the change in `SNAP.json`, offline, instead of the live account")
		fs.StringVar(&u.out, "out", "", "with --snapshot: write the reverted snapshot to `NEW_SNAP.json` (required)")
		fs.StringVar(&u.region, "region", "", "AWS `region` of the table and the account, instead of the change's task's")
		u.role.addFlag(fs)
		return u.run
	},
}

type undoing struct {
	change, changes, table, snapshot, out, region string
	role
}

func (u *undoing) run(ctx context.Context, c *cli) error {
	switch {
	case u.change == "":
		return usagef("--change is required")
	case (u.changes == "") == (u.table == ""):
		return usagef("give one of --changes RESULT.json or --table NAME: where the change record is")
	case (u.snapshot == "") != (u.out == ""):
		return usagef("--snapshot and --out go together: the reverted snapshot is written to --out")
	}
	ch, err := u.record(ctx, c)
	if err != nil {
		return err
	}
	task, _ := arn.Parse(ch.Why.Task) // the zero ARN, without a region, if it is none
	tgt, err := openTarget(ctx, c, u.snapshot, cmp.Or(u.region, task.Region), task.AccountID, u.role)
	if err != nil {
		return err
	}
	if err := fix.Undo(ctx, tgt.writer, *ch); err != nil {
		return err
	}
	if tgt.snap != nil {
		if err := tgt.saveSnapshot(c, u.out); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(c.stdout, "Undone %s: %s\n", ch.ChangeID, undoneWhat(ch))
	if err == nil && u.out != "" {
		_, err = fmt.Fprintf(c.stdout, "Wrote the snapshot to %s.\n", u.out)
	}
	return err
}

// record finds the change, in the result file or the state table.
func (u *undoing) record(ctx context.Context, c *cli) (*fix.Change, error) {
	if u.table != "" {
		cfg, err := loadConfig(ctx, u.region)
		if err != nil {
			return nil, err
		}
		var ch fix.Change
		err = state.NewLedger(dynamodb.NewFromConfig(cfg), u.table).GetChange(ctx, u.change, &ch)
		if errors.Is(err, state.ErrChangeNotFound) {
			return nil, &badInput{file: "state table " + u.table, err: err}
		}
		if err != nil {
			return nil, fmt.Errorf("state table %s: %w", u.table, err)
		}
		return &ch, nil
	}
	name, data, err := readInput(c, u.changes)
	if err != nil {
		return nil, err
	}
	var res fix.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, &badInput{file: name, err: err}
	}
	if res.Schema != fix.SchemaV1 {
		return nil, &badInput{file: name, err: fmt.Errorf("not a %s result (schema %q)", fix.SchemaV1, res.Schema)}
	}
	ids := make([]string, 0, len(res.Changes))
	for i, ch := range res.Changes {
		if ch.ChangeID == u.change {
			return &res.Changes[i], nil
		}
		ids = append(ids, ch.ChangeID)
	}
	if len(ids) == 0 {
		return nil, &badInput{file: name, err: fmt.Errorf("no change %s: this remediation changed nothing", u.change)}
	}
	return nil, &badInput{file: name, err: fmt.Errorf("no change %s; it records %s", u.change, strings.Join(ids, ", "))}
}

// undoneWhat says how things stand after the undo, which is also true when it
// had been undone before.
func undoneWhat(ch *fix.Change) string {
	if ch.Action == rules.ActionPublicIP {
		return fmt.Sprintf("%s reverted: assignPublicIp of %s is %s", ch.Action, ch.Target, ch.Before.AwsvpcConfiguration.AssignPublicIp)
	}
	return fmt.Sprintf("%s reverted: rule %s of %s is gone", ch.Action, strings.Join(ch.SecurityGroupRuleIDs, ", "), ch.Target)
}
