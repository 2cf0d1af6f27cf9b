package render

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// helperEnv names the destination a helper process renders to. The test
// binary is its own helper, run as an unprivileged user, so that the
// paths that only a non-root envwrap takes are exercised for real.
const helperEnv = "ENVWRAP_RENDER_HELPER_DEST"

func TestHelperWrite(t *testing.T) {
	dest := os.Getenv(helperEnv)
	if dest == "" {
		t.Skip("helper process for TestUnprivileged; not a test on its own")
	}
	if _, err := write(t, spec(dest, tmplText), testData()); err != nil {
		t.Fatal(err)
	}
}

// TestUnprivileged runs Write as uid 1001 where it cannot make the usual
// temporary file or cannot give it the file's owner, so the destination
// is rewritten in place.
func TestUnprivileged(t *testing.T) {
	needRoot(t)
	bin := helperBinary(t)

	// The directory is root's; the file is 1001's: no temp file (EACCES).
	dir := openDir(t, 0, 0o755)
	dest := filepath.Join(dir, "app.conf")
	existing(t, dest, "old\n", 0o600, 1001, 1001)
	before := stat(t, dest)
	runHelper(t, bin, dest)
	checkRewritten(t, dest, before, 1001, 1001, 0o600)
	wantNames(t, dir, "app.conf")

	// The directory is 1001's; the file is 1002's, writable by group
	// 1001: the temp file cannot be given owner 1002 (EPERM).
	dir = openDir(t, 1001, 0o755)
	dest = filepath.Join(dir, "app.conf")
	existing(t, dest, "old\n", 0o660, 1002, 1001)
	before = stat(t, dest)
	runHelper(t, bin, dest)
	checkRewritten(t, dest, before, 1002, 1001, 0o660)
	wantNames(t, dir, "app.conf")

	// A new file as 1001 is 1001's and 0600.
	dest = filepath.Join(dir, "new.conf")
	runHelper(t, bin, dest)
	if st := stat(t, dest); st.Uid != 1001 || st.Gid != 1001 || perm(st) != 0o600 {
		t.Errorf("new file: owner %d:%d mode %#o", st.Uid, st.Gid, perm(st))
	}
}

func checkRewritten(t *testing.T, dest string, before syscall.Stat_t, uid, gid, mode uint32) {
	t.Helper()
	st := stat(t, dest)
	if st.Ino != before.Ino || st.Uid != uid || st.Gid != gid || perm(st) != mode {
		t.Errorf("inode %d→%d owner %d:%d mode %#o; want the same inode, %d:%d, %#o",
			before.Ino, st.Ino, st.Uid, st.Gid, perm(st), uid, gid, mode)
	}
	if got := readFile(t, dest); got != rendered {
		t.Errorf("contents %q", got)
	}
}

// openDir is a new directory that uid 1001 can reach, owned by uid.
func openDir(t *testing.T, uid int, mode os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the test's own temp root too
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// helperBinary copies the test binary where uid 1001 can run it.
func helperBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	bin := filepath.Join(openDir(t, 0, 0o755), "render.test")
	out, err := os.OpenFile(bin, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

func runHelper(t *testing.T, bin, dest string) {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^TestHelperWrite$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dest)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: 1001, Gid: 1001, Groups: []uint32{}},
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper as uid 1001 writing %s: %v\n%s", dest, err, out)
	}
}
