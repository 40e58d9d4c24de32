package main

import "os"

const (
	exitOK       = 0
	exitMismatch = 1
	exitUsage    = 2
)

func main() { os.Exit(cmdBench(os.Args[2:], os.Stdout, os.Stderr)) }
