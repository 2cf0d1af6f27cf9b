package render

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkRender1MiB renders a 1 MiB config-file template: blocks of
// plain text with a few actions each, as real templates are. SetBytes is
// the template's size, so MB/s reads as template bytes rendered per second.
func BenchmarkRender1MiB(b *testing.B) {
	var src strings.Builder
	for i := 0; src.Len() < 1<<20; i++ {
		fmt.Fprintf(&src, "[service_%d]\n"+
			"# Plain text that stands for the comments and settings of a config file.\n"+
			"user     = {{ .db.user }}\n"+
			"password = {{ .db.password | quote }}\n"+
			"port     = {{ .db.port }}\n"+
			"token    = {{ .TOKEN | trim }}\n"+
			"ssl      = {{ .db.opts.ssl }}\n\n", i)
	}
	text := src.String()
	tm, err := Parse(spec("/nonexistent/app.conf", text))
	if err != nil {
		b.Fatal(err)
	}
	d := testData()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := tm.Execute(d); err != nil {
			b.Fatal(err)
		}
	}
}
