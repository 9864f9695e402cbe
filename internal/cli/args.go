package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagKind tells splitArgs whether a flag takes a value.
type flagKind func(name string) (known, boolean bool)

// splitArgs separates flags from positional arguments so that they can be mixed freely
// ("acclient authenticate alice --wait"): Go's flag package stops at the first argument. A token
// starting with "-" is a flag; a flag that takes a value and has no "=value" takes the next token
// as its value. "--" ends the flags; "-" alone is an argument. Unknown flags are kept as flags
// without a value, for flag.Parse to reject with its message.
func splitArgs(args []string, kind flagKind) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(positional, args[i+1:]...)
		case a == "-" || !strings.HasPrefix(a, "-"):
			positional = append(positional, a)
		default:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			if known, boolean := kind(name); known && !boolean && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return flags, positional
}

// flagKinds describes the flags of fs.
func flagKinds(fs *flag.FlagSet) flagKind {
	return func(name string) (bool, bool) {
		f := fs.Lookup(name)
		if f == nil {
			return name == "h" || name == "help", true
		}
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		return true, ok && b.IsBoolFlag()
	}
}

// allFlagKinds describes the flags of every command, to find the command words before knowing
// the command. A flag name means the same in every command that has it.
func allFlagKinds() flagKind {
	var kinds []flagKind
	for _, c := range commands {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		var g globalOptions
		g.flags(fs)
		c.new().flags(fs)
		kinds = append(kinds, flagKinds(fs))
	}
	return func(name string) (bool, bool) {
		for _, k := range kinds {
			if known, boolean := k(name); known {
				return known, boolean
			}
		}
		return false, true
	}
}

// placeholders name the values of flags in help.
var placeholders = map[string]string{
	"base-url": "URL", "app-id": "ID", "app-secret": "SECRET", "output": "text|json",
	"session-file": "FILE", "methods": "LIST", "phone": "NUMBER", "display-name": "NAME",
	"message": "TEXT", "interval": "DURATION", "timeout": "DURATION", "http-timeout": "DURATION",
	"auth-headers": "FAMILY",
}

// printFlags lists the flags of fs in the "--name VALUE  usage (default ...)" form.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		value, usage := flag.UnquoteUsage(f)
		if p, ok := placeholders[f.Name]; ok {
			value = p
		}
		left := "--" + f.Name
		if value != "" {
			left += " " + value
		}
		switch f.DefValue {
		case "", "false", "0", "0s":
		default:
			usage += " (default " + f.DefValue + ")"
		}
		width = max(width, len(left))
		rows = append(rows, row{left, usage})
	})
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, r.usage)
	}
}
