package event

import (
	"errors"
	"fmt"
)

// ErrNothingToDiagnose marks a well-formed stopped-task event whose stop was not a pull failure.
var ErrNothingToDiagnose = errors.New("nothing to diagnose: the task did not stop for an image pull failure")

// InputError is a malformed or unsupported event. It is the user's input, not a fault of ours.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Parse reads an EventBridge "ECS Task State Change" envelope.
// It returns *InputError for malformed or unsupported events and
// ErrNothingToDiagnose (with the parsed task) for stops that are not pull failures.
func Parse(data []byte) (*Task, error) {
	_ = data
	return nil, inputErrorf("not implemented")
}

// ParseImageRef splits an image reference into registry, repository, tag and digest.
func ParseImageRef(ref string) (ImageRef, error) {
	return ImageRef{Raw: ref}, inputErrorf("not implemented")
}

// Classify returns the reason class of a failure text and the host the failed call named.
func Classify(failure string) (ReasonClass, string) {
	return ClassUnknown, ""
}
