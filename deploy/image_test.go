package deploy

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const dockerfile = "../Dockerfile"

// goBuild is the go build command of the Dockerfile, variables expanded.
type goBuild struct {
	env  []string // NAME=value words before "go"
	args []string // the words after "go"
	line int
}

// dockerBuild finds the one RUN instruction that runs go build and splits
// it into words the way the shell would, expanding ${NAME} from the ARGs
// of its stage and from buildArgs, which override declared ARGs as
// --build-arg does.
func dockerBuild(t *testing.T, buildArgs map[string]string) goBuild {
	t.Helper()
	var run *instruction
	var vars map[string]string
	stageArgs := map[string]string{}
	for _, in := range parseDockerfile(t, dockerfile) {
		switch in.cmd {
		case "FROM":
			stageArgs = map[string]string{} // ARGs are scoped to their stage
		case "ARG":
			name, def, _ := strings.Cut(in.args, "=")
			stageArgs[name] = strings.Trim(def, `"`)
			if v, ok := buildArgs[name]; ok {
				stageArgs[name] = v
			}
		case "RUN":
			if !strings.Contains(in.args, "go build") {
				continue
			}
			if run != nil {
				t.Fatalf("%s:%d: a second go build; the test runs only one", dockerfile, in.line)
			}
			run, vars = &in, maps.Clone(stageArgs)
		}
	}
	if run == nil {
		t.Fatalf("%s: no RUN instruction runs go build", dockerfile)
	}
	return splitBuild(t, run, vars)
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func splitBuild(t *testing.T, run *instruction, vars map[string]string) goBuild {
	t.Helper()
	words := shellWords(t, run.args)
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		words = words[1:] // RUN's own flags: --mount and the like
	}
	b := goBuild{line: run.line}
	for _, w := range words {
		if slices.Contains([]string{"&&", "||", ";", "|"}, w) {
			t.Fatalf("%s:%d: keep the go build RUN a single command", dockerfile, run.line)
		}
		w = os.Expand(w, func(name string) string {
			v, ok := vars[name]
			if !ok {
				t.Fatalf("%s:%d: ${%s} is not an ARG of the stage", dockerfile, run.line, name)
			}
			return v
		})
		if len(b.args) == 0 && assignment.MatchString(w) {
			b.env = append(b.env, w)
		} else {
			b.args = append(b.args, w)
		}
	}
	if len(b.args) < 2 || b.args[0] != "go" || b.args[1] != "build" {
		t.Fatalf("%s:%d: want NAME=value... go build ..., have %q", dockerfile, run.line, words)
	}
	b.args = b.args[1:]
	return b
}

// shellWords splits a command line as sh does for the forms used in a
// Dockerfile RUN line: blanks, 'single' and "double" quotes, backslashes.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	runes := []rune(line)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote == 0 && (r == ' ' || r == '\t'):
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
			continue
		case quote == 0 && (r == '\'' || r == '"'):
			quote = r
		case quote != 0 && r == quote:
			quote = 0
		case r == '\\' && quote != '\'' && i+1 < len(runes):
			i++
			cur.WriteRune(runes[i])
		default:
			cur.WriteRune(r)
		}
		inWord = true
	}
	if quote != 0 {
		t.Fatalf("unterminated %c quote in %q", quote, line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func TestShellWords(t *testing.T) {
	got := shellWords(t, `A=1 go build -ldflags "-s -w -X main.version=${V}" -o '/o u t' x\ y`)
	want := []string{"A=1", "go", "build", "-ldflags", "-s -w -X main.version=${V}",
		"-o", "/o u t", "x y"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func (b goBuild) flag(name string) (string, bool) {
	i := slices.Index(b.args, name)
	if i < 0 || i+1 >= len(b.args) {
		return "", false
	}
	return b.args[i+1], true
}

// TestDockerfileBuildCommand checks the promises of the build line: no
// cgo, trimmed paths, stripped symbols, the version stamped.
func TestDockerfileBuildCommand(t *testing.T) {
	b := dockerBuild(t, map[string]string{"VERSION": "v9.9.9"})
	if !slices.Contains(b.env, "CGO_ENABLED=0") {
		t.Errorf("%s:%d: want CGO_ENABLED=0 for a static binary", dockerfile, b.line)
	}
	if !slices.Contains(b.args, "-trimpath") {
		t.Errorf("%s:%d: want -trimpath", dockerfile, b.line)
	}
	ld, _ := b.flag("-ldflags")
	fields := strings.Fields(ld)
	for _, want := range []string{"-s", "-w", "main.version=v9.9.9"} {
		if !slices.Contains(fields, want) {
			t.Errorf("%s:%d: -ldflags %q lacks %s", dockerfile, b.line, ld, want)
		}
	}
	if b.args[len(b.args)-1] != "./cmd/envwrap" {
		t.Errorf("%s:%d: want it to build ./cmd/envwrap", dockerfile, b.line)
	}
}

// TestDockerfileFinalStage checks the image: distroless static (or
// scratch with CA certificates), a non-root user, the binary the build
// stage wrote, and /envwrap as the entrypoint.
func TestDockerfileFinalStage(t *testing.T) {
	ins := parseDockerfile(t, dockerfile)
	first := strings.Fields(ins[0].args)
	if ins[0].cmd != "FROM" || !slices.ContainsFunc(first, isGo126) || len(first) < 3 ||
		!strings.EqualFold(first[len(first)-2], "AS") {
		t.Fatalf("%s: want the first stage FROM golang:1.26... AS name, have %q",
			dockerfile, ins[0].args)
	}
	builder := first[len(first)-1]
	last := 0
	for i, in := range ins {
		if in.cmd == "FROM" {
			last = i
		}
	}
	final := ins[last:]
	base := strings.Fields(final[0].args)[0]
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("%s: final image %s: want distroless static or scratch", dockerfile, base)
	}
	out, _ := dockerBuild(t, nil).flag("-o")
	checkFinal(t, final, base, builder, out)
}

func isGo126(word string) bool { return strings.HasPrefix(word, "golang:1.26") }

func checkFinal(t *testing.T, final []instruction, base, builder, binary string) {
	t.Helper()
	var user, entrypoint string
	copied, certs := false, base != "scratch"
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "COPY":
			c := parseCopy(t, in)
			copied = copied || c.from == builder && slices.Equal(c.sources, []string{binary}) &&
				c.dest == "/envwrap"
			certs = certs || strings.Contains(c.dest, "/etc/ssl/certs")
		}
	}
	if !copied {
		t.Errorf("%s: want COPY --from=%s %s /envwrap in the final stage",
			dockerfile, builder, binary)
	}
	if !certs {
		t.Errorf("%s: a scratch image needs the CA certificates copied in", dockerfile)
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("%s: USER %q: want a numeric non-root UID, which runAsNonRoot can verify",
			dockerfile, user)
	}
	var ep []string
	if json.Unmarshal([]byte(entrypoint), &ep) != nil || !slices.Equal(ep, []string{"/envwrap"}) {
		t.Errorf("%s: ENTRYPOINT %s: want [\"/envwrap\"] in exec form", dockerfile, entrypoint)
	}
}

// TestImageBinaryIsStatic builds envwrap as the Dockerfile does and
// checks that the binary is statically linked, holds no path of the build
// machine, and prints the stamped version.
func TestImageBinaryIsStatic(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux; the binary is checked as ELF")
	}
	const version = "v0.0.0-deploytest"
	bin, context := buildImageBinary(t, version)
	checkStatic(t, bin)
	if bytes.Contains(readFile(t, bin), []byte(context)) {
		t.Errorf("the binary holds the build directory %s: -trimpath did not apply", context)
	}
	out, err := exec.CommandContext(t.Context(), bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "envwrap "+version+" ") {
		t.Errorf("envwrap version printed %q (%v), want the stamped %s", out, err, version)
	}
}

// buildImageBinary builds envwrap for this machine's platform with the
// Dockerfile's go build command, word for word, in a copy of the build
// context filtered by .dockerignore. It returns the binary and the
// directory it was built in. It skips the test with -short.
func buildImageBinary(t *testing.T, version string) (bin, context string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds envwrap")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the image's binary: %v", err)
	}
	b := dockerBuild(t, map[string]string{
		"VERSION": version, "TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH,
	})
	context = filepath.Join(t.TempDir(), "src")
	copyContext(t, "..", context, dockerignore(t, "../.dockerignore"))
	bin = filepath.Join(t.TempDir(), "envwrap")
	args := slices.Clone(b.args)
	args[slices.Index(args, "-o")+1] = bin

	cmd := exec.CommandContext(t.Context(), goTool, args...)
	cmd.Dir = context // WORKDIR /src, after COPY . .
	cmd.Env = append(os.Environ(), b.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, context
}

// checkStatic wants no program interpreter (the dynamic loader) and no
// shared library dependency.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP program header: it is dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("the binary needs shared libraries (DT_NEEDED): %v", libs)
	}
}

// dockerignore reads the rules of a .dockerignore file. It supports what
// the file here uses: *, ?, ** and directory names; not ! exceptions.
func dockerignore(t *testing.T, file string) []*regexp.Regexp {
	t.Helper()
	var rules []*regexp.Regexp
	for _, line := range strings.Split(string(readFile(t, file)), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf("%s: %q: exceptions are not supported by this test's matcher", file, line)
		}
		rules = append(rules, ignoreRule(strings.TrimPrefix(path.Clean(line), "/")))
	}
	return rules
}

func ignoreRule(pattern string) *regexp.Regexp {
	var re strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case strings.HasPrefix(pattern[i:], "**/"):
			re.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			re.WriteString(".*")
			i++
		case c == '*':
			re.WriteString("[^/]*")
		case c == '?':
			re.WriteString("[^/]")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return regexp.MustCompile("^" + re.String() + "$")
}

// ignored reports whether a context path, or a directory above it, matches.
func ignored(rules []*regexp.Regexp, rel string) bool {
	for p := rel; p != "." && p != "/"; p = path.Dir(p) {
		for _, r := range rules {
			if r.MatchString(p) {
				return true
			}
		}
	}
	return false
}

func TestIgnoreRules(t *testing.T) {
	rules := []*regexp.Regexp{ignoreRule(".git"), ignoreRule("**/*_test.go"), ignoreRule("*.md")}
	for p, want := range map[string]bool{
		".git/config":           true,
		"x_test.go":             true,
		"cmd/envwrap/a_test.go": true,
		"cmd/envwrap/main.go":   false,
		"README.md":             true,
		"deploy/README.md":      false,
	} {
		if got := ignored(rules, p); got != want {
			t.Errorf("ignored(%q) = %v, want %v", p, got, want)
		}
	}
}

// copyContext copies the files of src that the rules keep to dst, as
// docker build sends them to the builder.
func copyContext(t *testing.T, src, dst string, rules []*regexp.Regexp) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		if ignored(rules, filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []string{"go.mod", "go.sum"} { // COPY go.mod go.sum ./
		if _, err := os.Stat(filepath.Join(dst, need)); err != nil {
			t.Fatalf(".dockerignore leaves %s out of the context", need)
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
