package file

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

var dotenvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// parseDotenv reads NAME=value lines. Blank lines and lines starting with
// # are skipped, and an "export " before the name is allowed. A value may
// be single-quoted (taken literally), double-quoted (with \n, \t, \", \\
// and \$ escapes, and may span lines) or bare (trimmed; a # after a space
// starts a comment). Errors give the line number, never the line.
func parseDotenv(data []byte) (map[string]string, error) {
	vars := make(map[string]string)
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, rest, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || !dotenvName.MatchString(name) {
			return nil, fmt.Errorf("%d: want NAME=value", lineNo)
		}
		value, used, err := dotenvValue(strings.TrimLeft(rest, " \t"), lines[i+1:])
		if err != nil {
			return nil, fmt.Errorf("%d: %s: %w", lineNo, name, err)
		}
		if !utf8.ValidString(value) {
			// JSON, which carries the values on, would replace the bytes.
			return nil, fmt.Errorf("%d: %s: value is not valid UTF-8; keep it in a raw file",
				lineNo, name)
		}
		i += used
		vars[name] = value
	}
	return vars, nil
}

// dotenvValue parses the value after '='. It returns how many of the
// following lines a multi-line double-quoted value used.
func dotenvValue(s string, next []string) (string, int, error) {
	switch {
	case strings.HasPrefix(s, "'"):
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", 0, fmt.Errorf("unterminated single quote")
		}
		return s[1 : end+1], 0, nil
	case strings.HasPrefix(s, `"`):
		return doubleQuoted(s[1:], next)
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s), 0, nil
}

func doubleQuoted(s string, next []string) (string, int, error) {
	var b strings.Builder
	used := 0
	for {
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '"':
				return b.String(), used, nil
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteString(unescape(s[i]))
			default:
				b.WriteByte(c)
			}
		}
		if used == len(next) {
			return "", 0, fmt.Errorf("unterminated double quote")
		}
		b.WriteByte('\n')
		s = next[used]
		used++
	}
}

func unescape(c byte) string {
	switch c {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case 'r':
		return "\r"
	}
	return string(c)
}
