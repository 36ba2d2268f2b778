// Package e2e holds tests of the shipped artifacts: the SAM template's event
// patterns, and both Lambda bootstraps running under the AWS Lambda Runtime
// Interface Emulator against moto. It has no non-test code.
package e2e
