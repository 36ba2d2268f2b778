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
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pullmedic/pullmedic/pkg/account"
	"github.com/pullmedic/pullmedic/pkg/event"
	"github.com/pullmedic/pullmedic/pkg/report"
	"github.com/pullmedic/pullmedic/pkg/rules"
)

var diagnoseCmd = &command{
	name:     "diagnose",
	synopsis: "--event EVENT.json|- [--snapshot SNAP.json] [--format text|json|markdown] [--region R]",
	summary:  "find why a task could not pull its image, from its stop event",
	details: `Reads an EventBridge "ECS Task State Change" event of a task that stopped
because its image could not be pulled, evaluates every rule of the catalog
and prints the report: the cause first, the path that proves it, what to do,
and every check. Without --snapshot it reads the live account through the
default AWS credential chain (profile, environment, SSO), in the event's
region; with --snapshot it works offline and makes no AWS call.

A task that stopped for another reason prints "nothing to diagnose: ..."
(on stdout, or on stderr with --format json) and exits 0.

Examples:
  pullmedic diagnose --event event.json --snapshot snapshot.json
  aws events ... | pullmedic diagnose --event - --format json
  pullmedic diagnose --event event.json --region eu-west-1
  pullmedic diagnose --event event.json --format markdown >> "$GITHUB_STEP_SUMMARY"`,
	define: func(fs *flag.FlagSet) func(context.Context, *cli) error {
		var in input
		in.registerFormats(fs, reportFormats)
		return func(ctx context.Context, c *cli) error {
			rep, err := in.diagnose(ctx, c)
			if err != nil || rep == nil {
				return err
			}
			return in.finish(c, rep)
		}
	},
}

// input is what diagnose and remediate read: the event, the account, and
// how to print the report.
type input struct {
	event string
	source
	output
}

func (in *input) registerFormats(fs *flag.FlagSet, formats []string) {
	fs.StringVar(&in.event, "event", "", "EventBridge `EVENT.json` of the stopped task, or - for standard input (required)")
	in.source.addFlags(fs, "live only: AWS `region` to read, instead of the event's")
	in.output.addFlags(fs, formats)
}

// diagnose reads the event and the account and builds the report. A nil report
// with a nil error means the task did not fail to pull; that has been said already.
func (in *input) diagnose(ctx context.Context, c *cli) (*report.Report, error) {
	task, err := in.readTask(c)
	if err != nil || task == nil {
		return nil, err
	}
	region := in.regionFor(task)
	if in.snapshot == "" {
		task.Region = region // the live view reads in the task's region
		c.progressf("collecting from account %s in %s…", task.Account, region)
	}
	acct, err := in.open(ctx, c, region, task.Account)
	if err != nil {
		return nil, err
	}
	return judge(ctx, c, acct.view(), task)
}

// judge collects what the task touches and evaluates the catalog over it.
func judge(ctx context.Context, c *cli, view account.View, task *event.Task) (*report.Report, error) {
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
	if err := in.output.check(); err != nil {
		return nil, err
	}
	c.progressf("reading event %s…", in.event)
	task, err := readEvent(c, in.event)
	if errors.Is(err, event.ErrNothingToDiagnose) {
		// JSON on stdout is for programs, which must not mistake this for a report.
		out := c.stdout
		if in.format == formatJSON {
			out = c.stderr
		}
		fmt.Fprintln(out, oneLine(err.Error()))
		return nil, nil
	}
	return task, err
}

// regionFor is --region, else the event's.
func (in *input) regionFor(task *event.Task) string { return cmp.Or(in.region, task.Region) }

// source is where a command reads the account: a snapshot, else live.
type source struct {
	snapshot, region string
	role
}

func (s *source) addFlags(fs *flag.FlagSet, regionUsage string) {
	fs.StringVar(&s.snapshot, "snapshot", "", "read the account from `SNAP.json` (pullmedic.snapshot/v1), offline, instead of live")
	fs.StringVar(&s.region, "region", "", regionUsage)
	s.role.addFlag(fs)
}

// role is --role-name: a role every live command assumes in the task's
// account before it reads or writes, so a person in a hub account can
// diagnose (and fix) any member's task with the roles the member stack made.
type role struct{ name string }

func (r *role) addFlag(fs *flag.FlagSet) {
	fs.StringVar(&r.name, "role-name", os.Getenv("PULLMEDIC_ROLE_NAME"),
		"live only: assume `NAME` in the task's account first (arn:PARTITION:iam::ACCOUNT:role/NAME); default $PULLMEDIC_ROLE_NAME")
}

// config is the live configuration for region: the caller's own, or, with
// --role-name, the role's in account acct.
func (r role) config(ctx context.Context, region, acct string) (aws.Config, error) {
	cfg, err := loadConfig(ctx, region)
	if err != nil || r.name == "" {
		return cfg, err
	}
	if acct == "" {
		return aws.Config{}, usagef("--role-name needs the task's account: give an event, or ARNs rather than names")
	}
	return account.NewRoles(cfg, r.name, "").Config(ctx, acct, cfg.Region)
}

// openAccount is an account opened for reading.
type openAccount struct {
	snap *account.Snapshot // nil when live
	cfg  aws.Config        // live only
}

// open reads the snapshot when one was given, else loads the live
// configuration for region ("" leaves the region to the environment) in
// account acct (which only --role-name needs).
func (s *source) open(ctx context.Context, c *cli, region, acct string) (*openAccount, error) {
	if s.snapshot != "" {
		snap, err := readSnapshot(c, s.snapshot)
		if err != nil {
			return nil, err
		}
		return &openAccount{snap: snap}, nil
	}
	cfg, err := s.role.config(ctx, region, acct)
	if err != nil {
		return nil, err
	}
	return &openAccount{cfg: cfg}, nil
}

func (a *openAccount) view() account.View {
	if a.snap != nil {
		return account.SnapshotView{Snap: a.snap}
	}
	return account.NewLive(a.cfg)
}

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

// Report formats.
const (
	formatText     = "text"
	formatJSON     = "json"
	formatMarkdown = "markdown"
)

var (
	// reportFormats are what diagnose and preflight print their report in.
	reportFormats = []string{formatText, formatJSON, formatMarkdown}

	formatHelp = map[string]string{
		formatText:     "text",
		formatJSON:     "json (pullmedic.report/v1)",
		formatMarkdown: "markdown (for a pull request comment or a CI job summary, with a Mermaid flowchart of the path)",
	}
)

// output is how a command prints its report.
type output struct {
	format  string
	formats []string // what the command prints
}

func (o *output) addFlags(fs *flag.FlagSet, formats []string) {
	o.formats = formats
	help := make([]string, len(formats))
	for i, f := range formats {
		help[i] = formatHelp[f]
	}
	fs.StringVar(&o.format, "format", formatText, "output `format`: "+orList(help))
}

func (o *output) check() error {
	if !slices.Contains(o.formats, o.format) {
		return usagef("--format must be %s, not %q", orList(o.formats), o.format)
	}
	return nil
}

func (o *output) print(c *cli, rep *report.Report) error {
	switch o.format {
	case formatJSON:
		return writeJSON(c.stdout, rep)
	case formatMarkdown:
		return rep.WriteMarkdown(c.stdout)
	}
	return rep.WriteText(c.stdout, c.color)
}

// finish prints the report and turns its verdict into the exit status.
func (o *output) finish(c *cli, rep *report.Report) error {
	if err := o.print(c, rep); err != nil {
		return err
	}
	return exitStatus(rep)
}

// orList joins "a", "a or b", "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
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
