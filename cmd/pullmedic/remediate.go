package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

var remediateCmd = &command{
	name:     "remediate",
	synopsis: "--event EVENT.json|- [--snapshot SNAP.json] [--apply [--out NEW_SNAP.json]] [--force] [--format text|json] [--region R]",
	summary:  "show the fix plan for a pull failure and what the cluster's opt-in allows",
	details: `Diagnoses the task like "diagnose", then prints the automatic fix plan and
the verdict of the cluster's pullmedic:auto-fix tag (off, dry-run, or the
actions it allows), exactly as the remediate Lambda function would decide.
Without --apply nothing is changed. --force lets a person at a terminal
override the tag: every planned action is allowed.

--apply is not available in this build yet: it prints the plan and exits 1.

Examples:
  pullmedic remediate --event event.json --snapshot snapshot.json
  pullmedic remediate --event event.json --force`,
	define: func(fs *flag.FlagSet) func(context.Context, *cli) error {
		var r remediation
		r.in.register(fs)
		fs.BoolVar(&r.apply, "apply", false, "apply the allowed steps (live), or to the snapshot written to --out")
		fs.StringVar(&r.out, "out", "", "with --snapshot and --apply: write the fixed snapshot to `NEW_SNAP.json`")
		fs.BoolVar(&r.force, "force", false, "ignore the cluster's pullmedic:auto-fix tag: allow every planned action")
		return r.run
	},
}

type remediation struct {
	in    input
	apply bool
	out   string
	force bool
}

// errApplyUnavailable answers --apply until pkg/fix is wired in.
var errApplyUnavailable = errors.New("--apply is not available yet: this build only plans; run without --apply to see the plan")

func (r *remediation) run(ctx context.Context, c *cli) error {
	if r.out != "" && (!r.apply || r.in.snapshot == "") {
		return usagef("--out needs --apply and --snapshot")
	}
	rep, err := r.in.diagnose(ctx, c)
	if err != nil || rep == nil {
		return err
	}
	if r.in.format == "json" {
		err = writeJSON(c.stdout, rep)
	} else {
		err = r.writeText(c, rep)
	}
	if err != nil {
		return err
	}
	if r.apply {
		return errApplyUnavailable
	}
	return exitStatus(rep)
}

func (r *remediation) writeText(c *cli, rep *report.Report) error {
	if err := rep.WritePlan(c.stdout, c.color); err != nil {
		return err
	}
	if r.force && len(rep.Plan) > 0 {
		_, err := fmt.Fprintf(c.stdout, "  --force: the %s tag is overridden; every planned step is allowed.\n", rules.TagAutoFix)
		return err
	}
	return nil
}
