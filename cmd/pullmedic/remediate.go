package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/fix"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
	"github.com/pullmedic/pullmedic/pkg/state"
)

var remediateCmd = &command{
	name: "remediate",
	synopsis: "--event EVENT.json|- [--snapshot SNAP.json] [--format text|json] [--region R]\n" +
		"      [--apply [--force] [--out NEW_SNAP.json] [--changes RESULT.json] [--table NAME]]",
	summary: "show the fix plan for a pull failure, or apply it (--apply)",
	details: `Diagnoses the task like "diagnose", then prints the automatic fix plan and
the verdict of the cluster's pullmedic:auto-fix tag (off, dry-run, or the
actions it allows), exactly as the remediate Lambda function would decide.
Without --apply nothing is changed.

--apply runs the remediate function's code: it diagnoses again, applies the
steps the tag allows and the guard rails accept, skips what is already in
place, then diagnoses once more to verify that each fixed rule passes. It
prints every step (verified, not-verified, already-present, skipped, refused,
failed), each change's ID and the "pullmedic undo" command that reverts it;
--format json prints the pullmedic.remediation/v1 result instead.
--force overrides the tag (every planned action is allowed); the guard rails
still hold.

Live (no --snapshot), --apply changes the account through the default
credential chain and needs --changes or --table, so that every change can be
undone: --changes writes the result with its change records to a file,
--table also takes the service's lock, consults the circuit breaker and
stores the change records in the pullmedic state table, as the Lambda does.
With --snapshot, --apply changes the snapshot in memory and writes it to
--out (required); the input snapshot is left as it was.

Exit codes with --apply: 0 nothing fails any more (fixed, or nothing was
wrong); 3 rules still fail (not fixable, skipped by the tag, refused by a
guard rail, or not verified); 1 a write failed, or a change could not be
recorded or saved; 2 bad input or a usage error, before anything is changed.

Examples:
  pullmedic remediate --event event.json --snapshot snapshot.json
  pullmedic remediate --event event.json --snapshot snapshot.json --apply --force \
      --out fixed.json --changes changes.json
  pullmedic remediate --event event.json --apply --table pullmedic-state`,
	define: func(fs *flag.FlagSet) func(context.Context, *cli) error {
		var r remediation
		r.in.registerFormats(fs, reportFormats)
		fs.BoolVar(&r.apply, "apply", false, "apply the allowed steps: to the live account, or to the snapshot written to --out")
		fs.StringVar(&r.out, "out", "", "with --snapshot and --apply: write the fixed snapshot to `NEW_SNAP.json` (required)")
		fs.BoolVar(&r.force, "force", false, "ignore the cluster's pullmedic:auto-fix tag: allow every planned action")
		fs.StringVar(&r.changes, "changes", "", "with --apply: write the result and its change records to `RESULT.json`, for undo")
		fs.StringVar(&r.table, "table", "", "live --apply: the pullmedic state `TABLE` (lock, circuit breaker, change records)")
		return r.run
	},
}

type remediation struct {
	in                  input
	apply, force        bool
	out, changes, table string
}

func (r *remediation) run(ctx context.Context, c *cli) error {
	if err := r.checkFlags(); err != nil {
		return err
	}
	if r.apply {
		return r.applyFixes(ctx, c)
	}
	rep, err := r.in.diagnose(ctx, c)
	if err != nil || rep == nil {
		return err
	}
	if r.in.format != formatText {
		return r.in.finish(c, rep)
	}
	if err := r.writePlan(c, rep); err != nil {
		return err
	}
	return exitStatus(rep)
}

// checkFlags refuses, before anything is read or changed, what cannot work.
func (r *remediation) checkFlags() error {
	offline := r.in.snapshot != ""
	switch {
	case r.apply && r.in.format == formatMarkdown:
		return usagef("--format markdown prints the plan; --apply prints text or json")
	case r.out != "" && (!r.apply || !offline):
		return usagef("--out needs --apply and --snapshot")
	case !r.apply && (r.changes != "" || r.table != ""):
		return usagef("--changes and --table need --apply")
	case r.apply && offline && r.out == "":
		return usagef("--out is required with --snapshot --apply: the fixed snapshot is written there")
	case r.table != "" && offline:
		return usagef("--table is for the live account, not with --snapshot")
	case r.apply && !offline && r.changes == "" && r.table == "":
		return usagef("live --apply needs --changes FILE or --table NAME, so that its changes can be undone")
	}
	return nil
}

func (r *remediation) writePlan(c *cli, rep *report.Report) error {
	if err := rep.WritePlan(c.stdout, c.color); err != nil {
		return err
	}
	if r.force && len(rep.Plan) > 0 {
		_, err := fmt.Fprintf(c.stdout, "  --force: the %s tag is overridden; every planned step is allowed.\n", rules.TagAutoFix)
		return err
	}
	return nil
}

// applyFixes runs the remediation engine, saves what it changed and reports it.
func (r *remediation) applyFixes(ctx context.Context, c *cli) error {
	task, err := r.in.readTask(c)
	if err != nil || task == nil {
		return err
	}
	task.Region = r.in.regionFor(task) // the live view reads in the task's region
	tgt, err := openTarget(ctx, c, r.in.snapshot, task.Region, task.Account, r.in.role)
	if err != nil {
		return err
	}
	o := fix.Options{View: tgt.view, Writer: tgt.writer, Force: r.force, Who: cliUser()}
	if r.table != "" {
		o.Store = state.NewLedger(dynamodb.NewFromConfig(tgt.home), r.table)
	}
	c.progressf("remediating…")
	res, err := fix.Remediate(ctx, o, task)
	if res == nil {
		return err
	}
	// Whatever happened, the changes made are saved and shown, so they can be undone.
	errs := []error{err, r.save(c, tgt, res)}
	if r.in.format == "json" {
		errs = append(errs, writeJSON(c.stdout, res))
	} else {
		errs = append(errs, r.writeResult(c, res))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if res.Outcome == fix.OutcomeRefused {
		// The event does not describe what the account holds: the input's fault.
		return &badInput{file: r.in.event, err: errors.New(res.Reason)}
	}
	if n := countStatus(res, fix.StatusFailed); n > 0 {
		return fmt.Errorf("%d of the fixes failed; see the result", n)
	}
	if res.After != nil && len(res.After.Failing) > 0 || res.After == nil && len(res.Before.Failing) > 0 {
		return errFailing
	}
	return nil
}

// save writes the changed snapshot to --out and the result to --changes.
func (r *remediation) save(c *cli, tgt *target, res *fix.Result) error {
	var errs []error
	if tgt.snap != nil {
		errs = append(errs, tgt.saveSnapshot(c, r.out))
	}
	if r.changes != "" {
		errs = append(errs, writeJSONFile(c, r.changes, res))
	}
	return errors.Join(errs...)
}

// writeResult tells a person what each step came to, and how to undo each change.
func (r *remediation) writeResult(c *cli, res *fix.Result) error {
	var remark string
	switch {
	case r.force:
		remark = fmt.Sprintf(" (--force: the %s tag is overridden)", rules.TagAutoFix)
	case len(res.Actions) == 0:
	case res.Mode == rules.ModeOff:
		remark = fmt.Sprintf(" (the cluster has no valid %s tag; --force applies anyway)", rules.TagAutoFix)
	case res.Mode == rules.ModeDryRun:
		remark = fmt.Sprintf(" (the cluster's %s tag asks for a dry run; --force applies anyway)", rules.TagAutoFix)
	}
	var b strings.Builder
	if err := res.WriteText(&b, remark, r.undoCommand); err != nil {
		return err
	}
	if r.out != "" {
		fmt.Fprintf(&b, "Wrote the snapshot to %s.\n", r.out)
	}
	if r.changes != "" {
		fmt.Fprintf(&b, "Wrote the result and its change records to %s.\n", r.changes)
	}
	if len(res.Changes) > 0 && r.changes == "" && r.table == "" {
		fmt.Fprintf(&b, "The change records were not saved: %s is unchanged; run again on it with --changes FILE to undo change by change.\n", r.in.snapshot)
	}
	_, err := fmt.Fprint(c.stdout, b.String())
	return err
}

// undoCommand is the exact command that reverts a change of this run, or ""
// when its record was not saved.
func (r *remediation) undoCommand(id string) string {
	args := []string{"pullmedic", "undo", "--change", id}
	switch {
	case r.changes != "":
		args = append(args, "--changes", r.changes)
	case r.table != "":
		args = append(args, "--table", r.table)
	default:
		return ""
	}
	if r.out != "" {
		args = append(args, "--snapshot", r.out, "--out", strings.TrimSuffix(r.out, ".json")+".undone.json")
	}
	if r.in.region != "" {
		args = append(args, "--region", r.in.region)
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

func countStatus(res *fix.Result, st fix.Status) int {
	n := 0
	for _, a := range res.Actions {
		if a.Status == st {
			n++
		}
	}
	return n
}

// target is the account a command changes: a snapshot in memory, or the live account.
type target struct {
	snap *account.Snapshot // nil when live
	// home is the caller's own configuration, where the state table is:
	// live only, as the task's account may be reached through --role-name.
	home   aws.Config
	view   account.View
	writer fix.Undoer
}

func openTarget(ctx context.Context, c *cli, snapshot, region, acct string, r role) (*target, error) {
	if snapshot != "" {
		snap, err := readSnapshot(c, snapshot)
		if err != nil {
			return nil, err
		}
		// The view copies snap on every collection, so the verifying
		// diagnosis sees what the writer changed in it.
		return &target{snap: snap, view: account.SnapshotView{Snap: snap}, writer: fix.NewSnapshotWriter(snap)}, nil
	}
	home, err := loadConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	cfg, err := r.config(ctx, region, acct)
	if err != nil {
		return nil, err
	}
	return &target{home: home, view: account.NewLive(cfg), writer: fix.NewLiveUndoer(cfg)}, nil
}

func (t *target) saveSnapshot(c *cli, path string) error {
	data, err := t.snap.Marshal()
	if err != nil {
		return fmt.Errorf("encoding the snapshot: %w", err)
	}
	return writeFile(c, path, data)
}

func writeJSONFile(c *cli, path string, v any) error {
	var b strings.Builder
	if err := writeJSON(&b, v); err != nil {
		return err
	}
	return writeFile(c, path, []byte(b.String()))
}

func writeFile(c *cli, path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	c.progressf("wrote %s (%d bytes)", path, len(data))
	return nil
}

// cliUser is who the change records name: "cli:" and the login.
func cliUser() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

// shellQuote makes a word safe to paste into a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
