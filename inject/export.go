package inject

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats are the forms Export writes.
var Formats = []string{"sh", "dotenv", "json"}

// Export writes vars for another program to read: "sh" as export lines
// for eval in a POSIX shell, "dotenv" as NAME="value" lines that envwrap's
// own file backend reads back exactly, "json" as one object. It is the
// one place that writes values on purpose; callers send it to stdout only.
func Export(w io.Writer, vars []Var, format string) error {
	var line func(Var) string
	switch format {
	case "sh":
		line = func(v Var) string { return "export " + v.Name + "=" + shQuote(v.Value.Reveal()) }
	case "dotenv":
		line = func(v Var) string { return v.Name + "=" + dotenvQuote(v.Value.Reveal()) }
	case "json":
		return exportJSON(w, vars)
	default:
		return fmt.Errorf("inject: format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
	for _, v := range vars {
		if _, err := io.WriteString(w, line(v)+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func exportJSON(w io.Writer, vars []Var) error {
	obj := make(map[string]string, len(vars))
	for _, v := range vars {
		obj[v.Name] = v.Value.Reveal()
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(obj)
}

// shQuote wraps s in single quotes, inside which a POSIX shell takes
// every byte literally; a single quote itself is closed, escaped and
// reopened.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dotenvQuote writes s double-quoted with the escapes envwrap's dotenv
// reader understands: \\, \", \n, \r, \t and \$.
var dotenvEscapes = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`,
	"\t", `\t`, "$", `\$`)

func dotenvQuote(s string) string { return `"` + dotenvEscapes.Replace(s) + `"` }
