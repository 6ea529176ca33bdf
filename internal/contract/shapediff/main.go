// Command shapediff compares the calls the contract suite recorded on two
// servers (files written with KESTRA_CONTRACT_LOG) and fails on every
// difference the accepted-differences file does not list.
//
//	go run ./internal/contract/shapediff -accepted internal/contract/accepted-differences.txt \
//	  kestra=.contract/kestra.json emulator=.contract/emulator.json
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kestra-go/sdk/internal/contract"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shapediff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	acceptedFile := fs.String("accepted", "", "file of accepted differences")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "usage: shapediff [-accepted FILE] NAME=LOG NAME=LOG")
		return 2
	}
	var names [2]string
	var logs [2][]*contract.Call
	for i, arg := range fs.Args() {
		name, file, ok := strings.Cut(arg, "=")
		if !ok {
			name, file = arg, arg
		}
		calls, err := contract.ReadLog(file)
		if err != nil {
			fmt.Fprintln(stderr, "shapediff:", err)
			return 2
		}
		names[i], logs[i] = name, calls
	}
	var accepted []contract.Accepted
	if *acceptedFile != "" {
		var err error
		if accepted, err = contract.LoadAccepted(*acceptedFile); err != nil {
			fmt.Fprintln(stderr, "shapediff:", err)
			return 2
		}
	}
	diffs := contract.Compare(names[0], logs[0], names[1], logs[1], accepted)
	for _, d := range diffs {
		fmt.Fprintln(stdout, d)
	}
	if len(diffs) > 0 {
		fmt.Fprintf(stdout, "%d differences between %s and %s not listed in %s\n", len(diffs), names[0], names[1], *acceptedFile)
		return 1
	}
	fmt.Fprintf(stdout, "%s and %s agree on %d and %d kinds of call (accepted differences aside)\n", names[0], names[1], len(logs[0]), len(logs[1]))
	return 0
}
