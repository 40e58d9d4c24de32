package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/aekit/aekit/internal/limits"
	"github.com/aekit/aekit/keras"
	"github.com/aekit/aekit/npy"
	"github.com/aekit/aekit/onnx"
)

// limitsEnv names the environment variable that raises (or lowers) the
// readers' resource limits: comma-separated FIELD=N pairs, FIELD one of
// the Max fields of keras.Options, npy.Options and onnx.ReadOptions,
// e.g. AEKIT_LIMITS=MaxLayers=50000,MaxMemberRatio=2000. A field that
// two packages share (MaxMemberBytes, ...) is set in both.
const limitsEnv = "AEKIT_LIMITS"

// limitsHelp documents the limits for the commands' help.
const limitsHelp = `Untrusted files: every command reads models and data only from regular
files (a named pipe or device is refused) and bounds what they may make it
allocate, before allocating it. A file past a limit fails with one line naming
the limit; raise it with AEKIT_LIMITS=FIELD=N[,FIELD=N...]. Defaults:
  MaxConfigBytes   16777216   bytes of Keras architecture JSON
  MaxConfigDepth   100        nesting of that JSON
  MaxLayers        10000      layers of a Keras model, nested ones included
  MaxParams        268435456  parameters of a fresh --arch model (1 GiB)
  MaxMemberBytes   1 GiB (.keras), 2 GiB (.npz) per zip member, decompressed
  MaxArchiveBytes  2 GiB (.keras), 8 GiB (.npz) per zip archive, decompressed
  MaxMemberRatio   200        decompressed bytes per compressed byte (members over 8 MiB)
  MaxNodes         10000      ONNX nodes, subgraphs and functions included
  MaxGraphDepth    8          ONNX graphs nested in attributes
  MaxMessages      250000     ONNX protobuf messages (nodes, attributes, value_info, ...)
  MaxValues        4000000    ONNX strings and integers in repeated fields
Outputs are written atomically and only to absent or regular files: a symbolic
link, named pipe or device as -o is refused, never replaced or written through.`

// maxThreadsPerCPU bounds --threads: more goroutines than this many per
// CPU only cost memory (each keeps its own buffers) and time.
const maxThreadsPerCPU = 4

// readLimits holds the readers' options as AEKIT_LIMITS sets them.
type readLimits struct {
	keras keras.Options
	npy   npy.Options
	onnx  onnx.ReadOptions
}

// envLimits parses AEKIT_LIMITS.
func envLimits() (*readLimits, error) {
	l := &readLimits{}
	s := os.Getenv(limitsEnv)
	if s == "" {
		return l, nil
	}
	fields := map[string][]any{
		"MaxConfigBytes":  {&l.keras.MaxConfigBytes},
		"MaxConfigDepth":  {&l.keras.MaxConfigDepth},
		"MaxLayers":       {&l.keras.MaxLayers},
		"MaxParams":       {&l.keras.MaxParams},
		"MaxMemberBytes":  {&l.keras.MaxMemberBytes, &l.npy.MaxMemberBytes},
		"MaxArchiveBytes": {&l.keras.MaxArchiveBytes, &l.npy.MaxArchiveBytes},
		"MaxMemberRatio":  {&l.keras.MaxMemberRatio, &l.npy.MaxMemberRatio},
		"MaxNodes":        {&l.onnx.MaxNodes},
		"MaxGraphDepth":   {&l.onnx.MaxGraphDepth},
		"MaxMessages":     {&l.onnx.MaxMessages},
		"MaxValues":       {&l.onnx.MaxValues},
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		dst, ok := fields[k]
		if !ok {
			var names []string
			for n := range fields {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("%s: unknown limit %q (want %s)", limitsEnv, limits.Truncate(k, 40), strings.Join(names, ", "))
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %s=%q: want a positive integer", limitsEnv, k, limits.Truncate(v, 40))
		}
		for _, d := range dst {
			switch d := d.(type) {
			case *int64:
				*d = n
			case *int:
				*d = int(min(n, 1<<62))
			}
		}
	}
	return l, nil
}

// limitHint adds to a limit error how to raise the limit from the
// command line.
func limitHint(err error) error {
	var le *limits.Error
	if err == nil || !errors.As(err, &le) || le.Field == "" {
		return err
	}
	return &hintError{err: err, msg: fmt.Sprintf("%v; to accept it, set %s=%s=%d", err, limitsEnv, le.Field, max(le.Got, le.Limit*2))}
}

// hintError is err with another message; errors.Is still sees err.
type hintError struct {
	err error
	msg string
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// checkThreads refuses a --threads value beyond maxThreadsPerCPU per CPU.
func checkThreads(n int) error {
	if lim := maxThreadsPerCPU * runtime.NumCPU(); n > lim {
		return fmt.Errorf("--threads %d: more than %d (%d per CPU on this %d-CPU machine)", n, lim, maxThreadsPerCPU, runtime.NumCPU())
	}
	return nil
}
