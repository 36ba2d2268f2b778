package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

var diagnoseCmd = &command{
	name:     "diagnose",
	synopsis: "--event EVENT.json|- [--snapshot SNAP.json] [--format text|json] [--region R]",
	summary:  "find why a task could not pull its image, from its stop event",
	details: `Reads an EventBridge "ECS Task State Change" event of a task that stopped
because its image could not be pulled, evaluates every rule of the catalog
and prints the report: the cause first, the path that proves it, what to do,
and every check. Without --snapshot it reads the live account through the
default AWS credential chain (profile, environment, SSO), in the event's
region; with --snapshot it works offline and makes no AWS call.

A task that stopped for another reason prints "nothing to diagnose: ..."
(on stdout with --format text, on stderr with --format json) and exits 0.

Examples:
  pullmedic diagnose --event event.json --snapshot snapshot.json
  aws events ... | pullmedic diagnose --event - --format json
  pullmedic diagnose --event event.json --region eu-west-1`,
	define: func(fs *flag.FlagSet) func(context.Context, *cli) error {
		var in input
		in.register(fs)
		return func(ctx context.Context, c *cli) error {
			rep, err := in.diagnose(ctx, c)
			if err != nil || rep == nil {
				return err
			}
			if err := in.print(c, rep); err != nil {
				return err
			}
			return exitStatus(rep)
		}
	},
}

// input is what diagnose and remediate read: the event, and the account view.
type input struct {
	event, snapshot, format, region string
}

func (in *input) register(fs *flag.FlagSet) {
	fs.StringVar(&in.event, "event", "", "EventBridge `EVENT.json` of the stopped task, or - for standard input (required)")
	fs.StringVar(&in.snapshot, "snapshot", "", "read the account from `SNAP.json` (pullmedic.snapshot/v1), offline, instead of live")
	fs.StringVar(&in.format, "format", "text", "output `format`: text or json (pullmedic.report/v1)")
	fs.StringVar(&in.region, "region", "", "live only: AWS `region` to read, instead of the event's")
}

// diagnose reads the event and the account and builds the report. A nil report
// with a nil error means the task did not fail to pull; that has been said already.
func (in *input) diagnose(ctx context.Context, c *cli) (*report.Report, error) {
	task, err := in.readTask(c)
	if err != nil || task == nil {
		return nil, err
	}
	view, err := in.view(ctx, c, task)
	if err != nil {
		return nil, err
	}
	facts, err := view.Collect(ctx, task)
	if err != nil {
		return nil, fmt.Errorf("collecting the account: %w", err)
	}
	c.progressf("evaluating %d rules…", len(rules.Catalog))
	return report.Build(facts), nil
}

// readTask checks the flags and reads the event. A nil task with a nil error
// means the task did not fail to pull; that has been said already.
func (in *input) readTask(c *cli) (*event.Task, error) {
	if in.event == "" {
		return nil, usagef("--event is required")
	}
	if in.format != "text" && in.format != "json" {
		return nil, usagef("--format must be text or json, not %q", in.format)
	}
	c.progressf("reading event %s…", in.event)
	task, err := readEvent(c, in.event)
	if errors.Is(err, event.ErrNothingToDiagnose) {
		out := c.stdout
		if in.format == "json" {
			out = c.stderr
		}
		fmt.Fprintln(out, oneLine(err.Error()))
		return nil, nil
	}
	return task, err
}

// view is the snapshot when one was given, else the live account.
func (in *input) view(ctx context.Context, c *cli, task *event.Task) (account.View, error) {
	if in.snapshot != "" {
		snap, err := readSnapshot(c, in.snapshot)
		if err != nil {
			return nil, err
		}
		return account.SnapshotView{Snap: snap}, nil
	}
	region := in.regionFor(task)
	task.Region = region // the live view reads in the task's region
	c.progressf("collecting from account %s in %s…", task.Account, region)
	cfg, err := loadConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	return account.NewLive(cfg), nil
}

// regionFor is --region, else the event's.
func (in *input) regionFor(task *event.Task) string { return cmp.Or(in.region, task.Region) }

func readSnapshot(c *cli, path string) (*account.Snapshot, error) {
	c.progressf("reading snapshot %s…", path)
	snap, err := account.ReadSnapshotFile(path)
	if err != nil {
		return nil, &badInput{file: path, err: err}
	}
	return snap, nil
}

// loadConfig is the default credential chain; an empty region leaves it to the environment.
func loadConfig(ctx context.Context, region string) (aws.Config, error) {
	cfg, err := account.LoadConfig(ctx, region)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}

func (in *input) print(c *cli, rep *report.Report) error {
	if in.format == "json" {
		return writeJSON(c.stdout, rep)
	}
	return rep.WriteText(c.stdout, c.color)
}

// exitStatus turns failing rules into exit code 3, and rules that could
// not be evaluated, when none fails, into exit code 4.
func exitStatus(rep *report.Report) error {
	switch {
	case rep.Failing():
		return errFailing
	case rep.Inconclusive:
		return errInconclusive
	}
	return nil
}

// readEvent reads and parses the event file, or standard input for "-".
// It returns the task with event.ErrNothingToDiagnose for a stop that is not a pull failure.
func readEvent(c *cli, path string) (*event.Task, error) {
	name, data, err := readInput(c, path)
	if err != nil {
		return nil, err
	}
	task, err := event.Parse(data)
	if err != nil && !errors.Is(err, event.ErrNothingToDiagnose) {
		return nil, &badInput{file: name, err: err}
	}
	return task, err
}

// readInput reads a file the user named, or standard input for "-", and
// returns the name to use in errors.
func readInput(c *cli, path string) (string, []byte, error) {
	name := path
	var data []byte
	var err error
	if path == "-" {
		name = "standard input"
		data, err = io.ReadAll(c.stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return name, nil, &badInput{file: name, err: fmt.Errorf("cannot read: %w", err)}
	}
	return name, data, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
