// Package scenarios is pullmedic's scenario library: one folder per failure,
// each with the task's stop event, an account snapshot (pullmedic.snapshot/v1)
// and the golden report a diagnosis must produce. gen/ derives the faulty
// scenarios from the two healthy bases; scenarios_test.go checks them all.
package scenarios
