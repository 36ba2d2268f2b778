// Command pullmedic diagnoses why an Amazon ECS task could not pull its image
// (CannotPullContainerError) from the task's "ECS Task State Change" event,
// against the live account or an offline snapshot, and plans the safe fixes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
)

// Exit codes are a public contract (docs/report.md).
const (
	exitOK       = 0
	exitError    = 1
	exitBadInput = 2
	exitFailing  = 3
	// exitInconclusive: no rule failed, but some could not be evaluated. A
	// gate must not pass on reads that failed.
	exitInconclusive = 4
)

const exitCodesHelp = `Exit codes:
  0  the diagnosis ran and no rule failed (nothing wrong, or nothing to diagnose)
  1  anything else went wrong (AWS access, writing the output, a fix that failed)
  2  bad input: unreadable or malformed event or snapshot, wrong event type,
     a task that has not stopped, a cluster, service or task definition that
     does not exist (preflight), or a usage error
  3  the diagnosis ran and at least one rule failed (the cause is in the report)
  4  inconclusive: no rule failed, but some could not be evaluated because a
     read failed (the report says which and why); not a clean bill of health
`

const mainHelp = `pullmedic finds why an Amazon ECS task could not pull its container image
(CannotPullContainerError) and plans the safe fixes.

Usage:
  pullmedic <command> [flags]

Commands:
%s
Run "pullmedic help <command>" or "pullmedic <command> --help" for its flags.

` + exitCodesHelp

// command is one subcommand. define declares its flags on fs and returns the
// function that runs it once the flags are parsed.
type command struct {
	name     string
	synopsis string
	summary  string
	details  string // description and examples, shown by help
	define   func(fs *flag.FlagSet) func(ctx context.Context, c *cli) error
}

var commands = []*command{diagnoseCmd, preflightCmd, remediateCmd, undoCmd, collectCmd}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// cli is the process's terminal: its streams and what they can show.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	color          bool // ANSI styles on stdout
	progress       bool // progress lines on stderr
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer) *cli {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &cli{
		stdin: stdin, stdout: stdout, stderr: stderr,
		color:    isTerminal(stdout) && !noColor,
		progress: isTerminal(stderr),
	}
}

// progressf tells a person at a terminal what is happening; scripts see nothing.
func (c *cli) progressf(format string, args ...any) {
	if c.progress {
		fmt.Fprintf(c.stderr, format+"\n", args...)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func main() {
	// Library logs are JSON on stderr, warnings only: stdout carries nothing but the report.
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command line; main only binds it to the process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCLI(stdin, stdout, stderr)
	if len(args) == 0 {
		writeMainHelp(stderr)
		return exitBadInput
	}
	name, help := args[0], false
	switch name {
	case "-h", "-help", "--help":
		writeMainHelp(stdout)
		return exitOK
	case "help":
		if len(args) < 2 {
			writeMainHelp(stdout)
			return exitOK
		}
		name, help = args[1], true
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "pullmedic: unknown command %q\n\n", name)
		writeMainHelp(stderr)
		return exitBadInput
	}
	if help {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.define(fs)
		cmd.writeHelp(stdout, fs)
		return exitOK
	}
	return cmd.run(ctx, c, args[1:])
}

func (cmd *command) run(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	// The flag package would print its own error and usage; we print ours.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	exec := cmd.define(fs)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		cmd.writeHelp(c.stdout, fs)
		return exitOK
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		return cmd.usageError(c, fs, err)
	}
	err = exec(ctx, c)
	var ue *usageErr
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errFailing):
		return exitFailing
	case errors.Is(err, errInconclusive):
		return exitInconclusive
	case errors.As(err, &ue):
		return cmd.usageError(c, fs, err)
	}
	fmt.Fprintf(c.stderr, "pullmedic: %s\n", oneLine(err.Error()))
	var bad *badInput
	if errors.As(err, &bad) {
		return exitBadInput
	}
	return exitError
}

func (cmd *command) usageError(c *cli, fs *flag.FlagSet, err error) int {
	fmt.Fprintf(c.stderr, "pullmedic %s: %s\n\n", cmd.name, oneLine(err.Error()))
	cmd.writeHelp(c.stderr, fs)
	return exitBadInput
}

func (cmd *command) writeHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage:\n  pullmedic %s %s\n\n%s\n\nFlags:\n", cmd.name, cmd.synopsis, strings.TrimSpace(cmd.details))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(w, "\n%s", exitCodesHelp)
}

func writeMainHelp(w io.Writer) {
	var list strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&list, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&list, "  %-10s %s\n", "help", "show the help of a command")
	fmt.Fprintf(w, mainHelp, list.String())
}

// errFailing ends a run that worked but found failing rules (exit 3).
var errFailing = errors.New("failing rules")

// errInconclusive ends a run that worked, found no failing rule, but could
// not evaluate some (exit 4).
var errInconclusive = errors.New("inconclusive")

// usageErr is a flag combination that cannot work; it is answered with the usage.
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageErr{fmt.Sprintf(format, args...)} }

// badInput is a problem with a file the user gave us (exit 2). Its message names the file.
type badInput struct {
	file string
	err  error
}

func (e *badInput) Error() string {
	// Readers often name the file themselves already ("FILE: ..." or
	// "FILE:LINE:COL: ..."); say it once.
	msg := e.err.Error()
	if rest, ok := strings.CutPrefix(msg, e.file); ok && strings.HasPrefix(rest, ":") {
		return e.file + rest
	}
	return e.file + ": " + msg
}

func (e *badInput) Unwrap() error { return e.err }

// oneLine keeps an error to the single stderr line the contract promises.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
