package render

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/envwrap/envwrap/secret"
)

// These tests mount, so they need root and a kernel that lets the test
// mount (a container may forbid it); they skip with a message otherwise.
// They mount only onto files and directories inside their own temporary
// directories, and unmount in cleanup, before those are removed.

// bind mounts src onto dst, both existing, until the test ends.
func bind(t *testing.T, src, dst string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind-mount; run the tests as root to cover the in-place rewrite")
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount not permitted here (%v); run where mounting is allowed "+
			"to cover the in-place rewrite", err)
	}
	t.Cleanup(func() { unmount(t, dst) })
}

func unmount(t *testing.T, path string) {
	if err := unix.Unmount(path, 0); err != nil {
		if err2 := unix.Unmount(path, unix.MNT_DETACH); err2 != nil {
			t.Errorf("unmounting %s: %v; %v", path, err, err2)
		}
	}
}

// boundFile makes a file src in srcDir and a file dest in a directory of
// its own, binds src onto dest, and returns both paths.
func boundFile(t *testing.T, srcDir string) (src, dest string) {
	t.Helper()
	src = filepath.Join(srcDir, "src")
	existing(t, src, "old contents, longer than the new ones\n", 0o640,
		os.Geteuid(), os.Getegid())
	dest = filepath.Join(t.TempDir(), "app.conf")
	existing(t, dest, "mount point\n", 0o600, os.Geteuid(), os.Getegid())
	bind(t, src, dest)
	return src, dest
}

// TestBindMountedFile: rename onto a bind-mounted file says EBUSY; the
// file is rewritten in place, so the bytes land in the mounted file.
func TestBindMountedFile(t *testing.T) {
	src, dest := boundFile(t, t.TempDir())
	checkInPlace(t, src, dest)
}

// TestBindMountFromAnotherFilesystem binds a file from /dev/shm (tmpfs)
// over one in the test's temporary directory.
func TestBindMountFromAnotherFilesystem(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "envwrap-render-test-")
	if err != nil {
		t.Skipf("no /dev/shm to use as another filesystem: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	if stat(t, shm).Dev == stat(t, t.TempDir()).Dev {
		t.Skip("/dev/shm is on the same filesystem as the temporary directory here")
	}
	src, dest := boundFile(t, shm)
	checkInPlace(t, src, dest)
}

// checkInPlace writes through dest and checks that src received it, in
// place, with no temporary file left beside dest.
func checkInPlace(t *testing.T, src, dest string) {
	t.Helper()
	before := stat(t, src)
	changed, err := write(t, spec(dest, tmplText), testData())
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if got := readFile(t, src); got != rendered {
		t.Errorf("mounted file holds %q, want %q", got, rendered)
	}
	after := stat(t, dest)
	if after.Ino != before.Ino || after.Dev != before.Dev || perm(after) != 0o640 {
		t.Errorf("dest is inode %d on %d, mode %#o; want the mounted file, %d on %d, 0640",
			after.Ino, after.Dev, perm(after), before.Ino, before.Dev)
	}
	wantNames(t, filepath.Dir(dest), "app.conf")
	wantNames(t, filepath.Dir(src), "src")

	// Unchanged: not touched. A mode in the Spec applies in place too.
	if changed, err := write(t, spec(dest, tmplText), testData()); err != nil || changed {
		t.Errorf("rewrite of the same bytes: changed %v, %v", changed, err)
	}
	s := spec(dest, tmplText+"more\n")
	s.Mode = 0o600
	if _, err := write(t, s, testData()); err != nil {
		t.Fatal(err)
	}
	if got, st := readFile(t, src), stat(t, src); got != rendered+"more\n" || perm(st) != 0o600 {
		t.Errorf("mounted file holds %q, mode %#o", got, perm(st))
	}
	wantNames(t, filepath.Dir(dest), "app.conf")
}

// TestReadOnlyDirectory is Kubernetes' subPath file in a read-only root
// filesystem: the directory refuses a temporary file (EROFS), the file
// itself is writable, and is rewritten in place.
func TestReadOnlyDirectory(t *testing.T) {
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(ro, "app.conf")
	existing(t, dest, "mount point\n", 0o600, os.Geteuid(), os.Getegid())
	bind(t, ro, ro)
	if err := unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only here: %v", err)
	}
	src := filepath.Join(t.TempDir(), "src")
	existing(t, src, "old\n", 0o644, os.Geteuid(), os.Getegid())
	bind(t, src, dest)

	if _, err := write(t, spec(dest, tmplText), testData()); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, src); got != rendered {
		t.Errorf("mounted file holds %q", got)
	}
	wantNames(t, ro, "app.conf")

	// A new file there cannot be written at all, and says why.
	_, err := write(t, spec(filepath.Join(ro, "new.conf"), "x"), testData())
	if err == nil || !strings.Contains(err.Error(), syscall.EROFS.Error()) {
		t.Errorf("new file in a read-only directory: got %v", err)
	}
	wantNames(t, ro, "app.conf")
}

// TestRemoveMountedFile: a mount point cannot be unlinked; Remove empties
// it so that the secret is gone all the same.
func TestRemoveMountedFile(t *testing.T) {
	src, dest := boundFile(t, t.TempDir())
	if _, err := write(t, spec(dest, tmplText), testData()); err != nil {
		t.Fatal(err)
	}
	if err := Remove(spec(dest, "")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, src); got != "" {
		t.Errorf("mounted file still holds %q", got)
	}
}

// TestFullFilesystem fills a small tmpfs: the write fails with ENOSPC,
// the destination keeps its old contents and no temporary file remains.
func TestFullFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs; run the tests as root to cover it")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		t.Skipf("mounting a tmpfs is not permitted here: %v", err)
	}
	t.Cleanup(func() { unmount(t, dir) })
	dest := filepath.Join(dir, "app.conf")
	existing(t, dest, "old\n", 0o600, os.Geteuid(), os.Getegid())

	d := testData()
	d.Secrets["big"] = secret.FromString(strings.Repeat("x", 256<<10))
	_, err := write(t, spec(dest, "{{ .big }}"), d)
	if err == nil || !strings.Contains(err.Error(), syscall.ENOSPC.Error()) {
		t.Fatalf("got %v; want no space left on device", err)
	}
	if got := readFile(t, dest); got != "old\n" {
		t.Errorf("destination holds %q", got)
	}
	wantNames(t, dir, "app.conf")
}
