// Command aekit loads, runs, checks, converts and trains Dense
// autoencoders stored as Keras (.h5, .keras) or ONNX files, with no Python.
//
// Usage:
//
//	aekit <command> [arguments]
//
// The commands are:
//
//	inspect   describe a model: format, layers, shapes, parameters, sub-models
//	predict   run a model (or one of its layers or sub-models) on a .npy file
//	evaluate  print a model's loss on data as Keras's evaluate does
//	score     anomaly scores: reconstruction error per row, threshold, ROC AUC
//	select    write the rows of a .npy file whose label is in a list of classes
//	check     compare a model's outputs with expected outputs
//	convert   convert between .h5, .keras and .onnx
//	train     train a model with Keras semantics
//	bench     measure training and inference speed
//	serve     serve models over the Open Inference Protocol (KServe v2 / Triton), REST and gRPC
//	version   print aekit's version (also --version, -v)
//	completion print a shell completion script (bash, zsh, fish)
//
// Flags may come before or after the positional arguments. Run
// "aekit <command> --help" for the flags of a command.
//
// Exit status: 0 on success, 1 when check finds a mismatch (or training
// fails), 2 on a usage or input error. Messages go to standard error.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	goruntime "runtime"

	"github.com/aekit/aekit/internal/version"
)

// Exit codes.
const (
	exitOK       = 0 // success
	exitMismatch = 1 // check found values out of tolerance; training failed
	exitUsage    = 2 // bad usage or bad input
)

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"inspect", "describe a model: format, layers, shapes, parameters, sub-models", cmdInspect},
		{"predict", "run a model (or one of its layers or sub-models) on a .npy file", cmdPredict},
		{"evaluate", "print a model's loss on data as Keras's evaluate does", cmdEvaluate},
		{"score", "anomaly scores: reconstruction error per row, threshold, ROC AUC", cmdScore},
		{"select", "write the rows of a .npy file whose label is in a list of classes", cmdSelect},
		{"check", "compare a model's outputs with expected outputs", cmdCheck},
		{"convert", "convert between .h5, .keras and .onnx", cmdConvert},
		{"train", "train a model with Keras semantics", cmdTrain},
		{"bench", "measure training and inference speed", cmdBench},
		{"serve", "serve models over the Open Inference Protocol (KServe v2 / Triton)", cmdServe},
		{"version", "print aekit's version", cmdVersion},
		{"completion", "print a shell completion script (bash, zsh, fish)", cmdCompletion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	case "-v", "-version", "--version":
		return cmdVersion(args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "aekit: unknown command %q\n", args[0])
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if c := closest(args[0], names); c != "" {
		fmt.Fprintf(stderr, "did you mean \"aekit %s\"?\n", c)
	}
	fmt.Fprintln(stderr, "run \"aekit --help\" for the commands")
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "aekit loads, runs, checks, converts and trains Dense autoencoders (Keras .h5/.keras, ONNX).\n\nUsage:\n\n\taekit <command> [arguments]\n\nCommands:\n\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "\t%-10s  %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun \"aekit <command> --help\" for a command's flags.\nExit status: 0 ok, 1 check mismatch, 2 usage or input error.\n")
}

// cmdVersion prints "aekit VERSION (GO, OS/ARCH)", or with --json the
// same as a JSON object.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "--json" || args[0] == "-json") {
		b, _ := json.Marshal(struct {
			Version string `json:"version"`
			Go      string `json:"go"`
			OS      string `json:"os"`
			Arch    string `json:"arch"`
		}{version.String(), version.Go(), goruntime.GOOS, goruntime.GOARCH})
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "aekit version: takes no arguments but --json (got %q)\n", args[0])
		return exitUsage
	}
	fmt.Fprintf(stdout, "aekit %s (%s, %s/%s)\n", version.String(), version.Go(), goruntime.GOOS, goruntime.GOARCH)
	return exitOK
}
