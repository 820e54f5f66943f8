//go:build !linux

package main

// lowerThreadPriority does nothing where threads have no portable priority: the workers still
// bound the hashes, and the extra Ps still keep requests from waiting behind them.
func lowerThreadPriority() {}
