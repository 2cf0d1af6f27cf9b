package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// kinds says which test reads each kind of file under deploy/. A file that
// matches none fails TestEveryFileIsChecked, so that nothing is added here
// without a check.
var kinds = []struct {
	kind    string
	pattern *regexp.Regexp
}{
	{"kubernetes", regexp.MustCompile(`^kubernetes/[^/]+\.yaml$`)},
	{"envwrap manifest", regexp.MustCompile(`\.envwrap\.yaml$`)},
	{"ecs task definition", regexp.MustCompile(`^ecs/[^/]+\.task-definition\.json$`)},
	{"iam policy", regexp.MustCompile(`^ecs/[^/]+-policy\.json$`)},
	{"dockerfile", regexp.MustCompile(`^ecs/[^/]+\.Dockerfile$`)},
	{"template", regexp.MustCompile(`\.tmpl$`)},
	{"terraform", regexp.MustCompile(`^terraform/.+\.tf$`)},
	{"go", regexp.MustCompile(`^[^/]+\.go$`)},
	{"readme", regexp.MustCompile(`^README\.md$`)},
}

func kindOf(rel string) string {
	for _, k := range kinds {
		if k.pattern.MatchString(rel) {
			return k.kind
		}
	}
	return ""
}

// deployFiles lists the files under deploy/, relative to it, slash-separated.
func deployFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .terraform and the like
		}
		if !d.IsDir() {
			files = append(files, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func filesOfKind(t *testing.T, kind string) []string {
	t.Helper()
	var out []string
	for _, f := range deployFiles(t) {
		if kindOf(f) == kind {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s files under deploy/", kind)
	}
	return out
}

func TestEveryFileIsChecked(t *testing.T) {
	referenced := templateSources(t)
	for _, f := range deployFiles(t) {
		switch kindOf(f) {
		case "":
			t.Errorf("%s: no test reads this kind of file; add it to kinds and check it", f)
		case "template":
			if !referenced[filepath.Base(f)] {
				t.Errorf("%s: no envwrap manifest uses this template", f)
			}
		}
	}
}

// templateSources is the set of template file names the envwrap manifests
// under deploy/ name as a source.
func templateSources(t *testing.T) map[string]bool {
	t.Helper()
	used := make(map[string]bool)
	for _, m := range envwrapManifests(t) {
		parsed := parseEnvwrap(t, m)
		for _, tmpl := range parsed.Templates {
			if tmpl.Source != "" {
				used[filepath.Base(tmpl.Source)] = true
			}
		}
	}
	return used
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts
	cmd  string // upper case: FROM, RUN, COPY...
	args string
}

// parseDockerfile reads the instructions of a Dockerfile. It knows enough
// of the format for the files here: comments, blank lines, and lines
// continued with a trailing backslash. Heredocs are not supported.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	var out []instruction
	var cur *instruction
	for i, line := range strings.Split(string(readFile(t, path)), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		more := strings.HasSuffix(trimmed, "\\")
		trimmed = strings.TrimSpace(strings.TrimSuffix(trimmed, "\\"))
		if cur == nil {
			cmd, args, _ := strings.Cut(trimmed, " ")
			cur = &instruction{line: i + 1, cmd: strings.ToUpper(cmd), args: args}
		} else {
			cur.args += " " + trimmed
		}
		if !more {
			cur.args = strings.TrimSpace(cur.args)
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: instruction continues past the end of the file", path, cur.line)
	}
	return out
}

// copyInstruction is a COPY split into its flags, sources and destination.
type copyInstruction struct {
	from    string // --from, "" for the build context
	sources []string
	dest    string
}

func parseCopy(t *testing.T, in instruction) copyInstruction {
	t.Helper()
	var c copyInstruction
	var words []string
	for _, w := range strings.Fields(in.args) {
		switch {
		case strings.HasPrefix(w, "--from="):
			c.from = strings.TrimPrefix(w, "--from=")
		case strings.HasPrefix(w, "--"):
			// --chown, --chmod, --link: they do not change what is copied.
		default:
			words = append(words, w)
		}
	}
	if len(words) < 2 {
		t.Fatalf("line %d: COPY needs a source and a destination: %q", in.line, in.args)
	}
	c.sources, c.dest = words[:len(words)-1], words[len(words)-1]
	return c
}

// TestDockerfileCopySources checks that every file the example Dockerfiles
// copy from their build context (the directory they are in) exists.
func TestDockerfileCopySources(t *testing.T) {
	for _, f := range filesOfKind(t, "dockerfile") {
		for _, in := range parseDockerfile(t, f) {
			if in.cmd != "COPY" {
				continue
			}
			c := parseCopy(t, in)
			for _, src := range c.sources {
				if c.from != "" {
					continue
				}
				if _, err := os.Stat(filepath.Join(filepath.Dir(f), src)); err != nil {
					t.Errorf("%s:%d: COPY source %s: %v", f, in.line, src, err)
				}
			}
		}
	}
}

// copiedTo returns the context file a Dockerfile copies to dest, or "".
func copiedTo(t *testing.T, dockerfile, dest string) string {
	t.Helper()
	for _, in := range parseDockerfile(t, dockerfile) {
		if in.cmd != "COPY" {
			continue
		}
		c := parseCopy(t, in)
		if c.from == "" && c.dest == dest && len(c.sources) == 1 {
			return filepath.Join(filepath.Dir(dockerfile), c.sources[0])
		}
	}
	return ""
}

// configFlag returns the value of envwrap's --config (or -c) flag in argv,
// or "" when argv does not give one.
func configFlag(argv []string) string {
	for i, a := range argv {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			return v
		}
		if v, ok := strings.CutPrefix(a, "-c="); ok {
			return v
		}
		if (a == "--config" || a == "-c") && i+1 < len(argv) {
			return argv[i+1]
		}
	}
	return ""
}

// under reports whether path lies inside dir.
func under(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

func TestUnder(t *testing.T) {
	for _, c := range []struct {
		path, dir string
		want      bool
	}{
		{"/run/secrets/app/app.conf", "/run/secrets/app", true},
		{"/run/secrets/app2/x", "/run/secrets/app", false},
		{"/run/secrets", "/run/secrets/app", false},
	} {
		if got := under(c.path, c.dir); got != c.want {
			t.Errorf("under(%q, %q) = %v", c.path, c.dir, got)
		}
	}
}
