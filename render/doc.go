// Package render owns envwrap's template files: it parses Go
// text/template templates, renders them from the resolved secrets, and
// writes the results to their destinations safely. It does not decide
// what a changed file means for the child; Write only reports whether
// the file changed.
//
// # What a template sees
//
// Dot holds every secret under two kinds of name:
//
//   - its environment variable name (Data.Vars): the exact text the child
//     gets in its environment, byte for byte: {{ .DB_PASSWORD }}.
//   - its as: name (Data.Secrets). A secret that is a JSON object can be
//     walked by key: {{ .db.password }}, {{ .db.tls.ca }}. Any other
//     secret is its bytes exactly, binary ones included: {{ .tls_key }}.
//
// Where one name is both, the as: name wins.
//
// Inside a JSON object, values follow the rules for environment
// variables: a string is its text, unquoted; a number keeps its digits
// as written (12345678901234567890 and 1.50 stay so); true and false
// print as written and act as booleans in {{ if }}; an object can be
// walked further and prints as compact JSON; an array works with index
// and range and prints as compact JSON; null is "no value" (see below).
// Printed whole, an object is compact JSON with its keys sorted, not the
// secret's original bytes: to copy a JSON secret byte for byte, give it
// an env: name and print that.
//
// A key that is not a Go identifier is reached with index or field:
// {{ index .db "read-only" }}. Ranging over an object visits its keys in
// sorted order: {{ range $k, $v := .app }}{{ $k }}={{ $v }}{{ end }}.
//
// # Missing values
//
// A template that names a missing secret or key fails, and the error
// names the template, the line and column, the action and the missing
// name:
//
//	render: app.conf.tmpl:3:18: {{.db.pasword}}: missing key "pasword": ...
//
// for "password = {{ .db.pasword }}" on line 3 (columns count from 1 and
// point at the action, or at the key that is missing).
//
// Nothing is written then: never "<no value>", never empty text in its
// place. The same holds for "no value" (a JSON null, an unset variable
// read with env, a key get did not find): printing one is an error, and
// default gives a fallback. Error messages never quote a secret; where
// text/template's own message might, it is withheld.
//
// Spec.MissingKey "empty" relaxes this for missing keys only: they render
// as empty text. It is meant for templates shared between setups that do
// not all define every secret.
//
// text/template prints "<no value>" for a missing value in a Write of its
// own; envwrap refuses (or, under "empty", drops) such a write. A literal
// "<no value>" standing alone between two actions is therefore refused
// too; no real template needs that text.
//
// # Functions
//
// Each example shows a template and what it renders, given a secret db
// holding {"user":"app","password":"p@ss","port":5432,"opts":{"ssl":true}}
// and a variable TOKEN holding "  abc\n". Besides these, text/template's
// own functions (and, or, not, eq, len, slice...) work as documented.
//
// field PATH VALUE — the key at a dotted path, as a manifest's #key
// picks it, in an object or in text holding a JSON object. A missing key
// is an error.
//
//	{{ .db | field "opts.ssl" }}          true
//	{{ field "a" `{"a": 1.50}` }}         1.50
//
// get PATH VALUE — field for keys that may be absent: absent gives no
// value, for default to replace.
//
//	{{ .db | get "host" | default "localhost" }}   localhost
//
// index VALUE KEY... — text/template's index, made strict: a missing key
// or an index outside an array is an error instead of "<no value>".
//
//	{{ index .db "user" }}                app
//
// toJSON VALUE, toPrettyJSON VALUE — JSON of a value: keys sorted,
// numbers as written, <, > and & not escaped; toPrettyJSON indents by
// two spaces. Text becomes a JSON string; invalid UTF-8 in it becomes
// U+FFFD, so use b64enc for binary secrets.
//
//	{{ .db.opts | toJSON }}               {"ssl":true}
//	{{ toJSON .db.user }}                 "app"
//	{{ .db.opts | toPrettyJSON }}         {
//	                                        "ssl": true
//	                                      }
//
// fromJSON TEXT — parses JSON text (a variable, a string inside a secret)
// into a value that can be walked.
//
//	{{ (fromJSON `{"a":{"b":7}}`).a.b }}  7
//
// b64enc VALUE, b64dec VALUE — standard base64 (RFC 4648, with padding)
// of the bytes, and back; b64dec skips line breaks and gives the bytes
// exactly, binary ones included.
//
//	{{ .db.user | b64enc }}               YXBw
//	{{ "YXBw" | b64dec }}                 app
//
// default FALLBACK VALUE — VALUE, or FALLBACK when VALUE is empty text
// or no value. false and 0 are values and are kept.
//
//	{{ env "PORT" | default "8080" }}     8080 (when PORT is unset)
//
// required MESSAGE VALUE — VALUE, or an error with MESSAGE when it is
// empty text or no value.
//
//	{{ .db.user | required "db.user must not be empty" }}   app
//
// indent N VALUE, nindent N VALUE — N spaces before every line that is
// not empty (empty lines stay empty, so a PEM block's last newline adds
// no trailing blanks); nindent starts with a newline, for YAML blocks.
//
//	key: |{{ "a\nb\n" | nindent 2 }}     key: |
//	                                        a
//	                                        b
//
// trim VALUE, trimPrefix PREFIX VALUE, trimSuffix SUFFIX VALUE,
// trimAll CUTSET VALUE — strings.TrimSpace, TrimPrefix, TrimSuffix and
// Trim.
//
//	[{{ .TOKEN | trim }}]                 [abc]
//	{{ "v1.2" | trimPrefix "v" }}         1.2
//	{{ "app.conf" | trimSuffix ".conf" }} app
//	{{ "--x--" | trimAll "-" }}           x
//
// env NAME — a variable of envwrap's own environment, or no value when it
// is unset. The child's secret variables are not there: use {{ .NAME }}.
//
//	{{ env "HOME" }}                      /root
//
// quote VALUE — a double-quoted string with JSON's escapes, which JSON,
// YAML and TOML all read.
//
//	password = {{ .db.password | quote }} password = "p@ss"
//	{{ "a\"b\n" | quote }}                "a\"b\n"
//
// print, printf, println — as in text/template, except that no value is
// an error rather than "<nil>".
//
//	{{ printf "%s:%s" .db.user .db.port }}   app:5432
//
// # Files
//
// Write renders into a new file beside the destination, created
// exclusively and given its final owner and mode before a byte is
// written, synced, renamed over the destination, and the directory
// synced. Where rename cannot work — the destination is a mount point
// (EBUSY, a bind-mounted file) or on another filesystem (EXDEV), or the
// directory refuses a new file while the destination exists (a
// read-only directory holding a bind-mounted file) — the destination is
// rewritten in place and synced. That is not atomic: a reader can see a
// part-written file. No temporary file is left behind, on success or
// failure.
//
// A rendering that equals the file's contents leaves the file alone: no
// write, same inode and mtime. A new file is 0600 unless Spec.Mode says
// otherwise; an existing one keeps its mode and owner unless Spec says
// otherwise. A destination that is a symbolic link or not a regular
// file is refused.
package render
