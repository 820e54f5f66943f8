//go:build !linux

package main

// lowerProcessPriority leaves the priority as it is: only Linux is measured (BENCHMARKS.md).
func lowerProcessPriority() {}
