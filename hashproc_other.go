//go:build !linux

package main

import "syscall"

// hashChildAttr leaves the hashing process in the server's session.
func hashChildAttr() *syscall.SysProcAttr { return nil }

// lowerProcessPriority leaves the priority as it is: only Linux is measured (BENCHMARKS.md).
func lowerProcessPriority(bool) {}

// pinHashThread leaves the thread where it is: only Linux is measured.
func pinHashThread(hashPin) (unpin func()) { return func() {} }
