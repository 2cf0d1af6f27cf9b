package render

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envwrap/envwrap/secret"
)

const tmplText = "user={{ .db.user }}\npassword={{ .db.password }}\n"
const rendered = "user=app\npassword=p@ss\n"

func TestNewFileIs0600WhateverTheUmask(t *testing.T) {
	for _, mask := range []int{0, 0o022, 0o077, 0o277} {
		withUmask(t, mask)
		dir := t.TempDir()
		dest := filepath.Join(dir, "app.conf")
		changed, err := write(t, spec(dest, tmplText), testData())
		if err != nil || !changed {
			t.Fatalf("umask %#o: changed %v, %v", mask, changed, err)
		}
		st := stat(t, dest)
		if perm(st) != 0o600 || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			t.Errorf("umask %#o: mode %#o, want a regular file 0600", mask, st.Mode)
		}
		if st.Uid != uint32(os.Geteuid()) {
			t.Errorf("umask %#o: owner %d, want %d", mask, st.Uid, os.Geteuid())
		}
		if got := readFile(t, dest); got != rendered {
			t.Errorf("contents %q, want %q", got, rendered)
		}
		wantNames(t, dir, "app.conf")
	}
}

func TestModeBeatsTheUmask(t *testing.T) {
	withUmask(t, 0o077)
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	s := spec(dest, tmplText)
	s.Mode = 0o644
	if _, err := write(t, s, testData()); err != nil {
		t.Fatal(err)
	}
	if got := perm(stat(t, dest)); got != 0o644 {
		t.Errorf("mode %#o, want 0644", got)
	}
}

// TestExistingFileKeepsModeAndOwner is the case: an existing 0440
// file owned by 1001:1001 keeps both after a re-render.
func TestExistingFileKeepsModeAndOwner(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	existing(t, dest, "old\n", 0o440, 1001, 1001)
	before := stat(t, dest)

	changed, err := write(t, spec(dest, tmplText), testData())
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	st := stat(t, dest)
	if perm(st) != 0o440 || st.Uid != 1001 || st.Gid != 1001 {
		t.Errorf("mode %#o owner %d:%d, want 0440 1001:1001", perm(st), st.Uid, st.Gid)
	}
	if st.Ino == before.Ino {
		t.Errorf("inode %d unchanged: the file was not replaced by a rename", st.Ino)
	}
	if got := readFile(t, dest); got != rendered {
		t.Errorf("contents %q, want %q", got, rendered)
	}
	wantNames(t, dir, "app.conf")
}

func TestSpecOverridesModeAndOwner(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	existing(t, dest, "old\n", 0o440, 1001, 1001)

	s := spec(dest, tmplText)
	s.Mode, s.UID, s.GID = 0o640|fs.ModeSetgid, 1002, 1003
	if _, err := write(t, s, testData()); err != nil {
		t.Fatal(err)
	}
	// setgid survives: the chown that would clear it comes before the chmod.
	st := stat(t, dest)
	if perm(st) != 0o2640 || st.Uid != 1002 || st.Gid != 1003 {
		t.Errorf("mode %#o owner %d:%d, want 02640 1002:1003", perm(st), st.Uid, st.Gid)
	}

	// Only the group given: the owner stays.
	s.Mode, s.UID, s.GID = 0, -1, 1004
	s.Contents += "again\n"
	if _, err := write(t, s, testData()); err != nil {
		t.Fatal(err)
	}
	st = stat(t, dest)
	if perm(st) != 0o2640 || st.Uid != 1002 || st.Gid != 1004 {
		t.Errorf("mode %#o owner %d:%d, want 02640 1002:1004", perm(st), st.Uid, st.Gid)
	}

	// A new file gets the owner asked for.
	s2 := spec(filepath.Join(dir, "new.conf"), "x")
	s2.UID, s2.GID = 1005, 1006
	if _, err := write(t, s2, testData()); err != nil {
		t.Fatal(err)
	}
	st = stat(t, s2.Destination)
	if perm(st) != 0o600 || st.Uid != 1005 || st.Gid != 1006 {
		t.Errorf("new file: mode %#o owner %d:%d, want 0600 1005:1006", perm(st), st.Uid, st.Gid)
	}
	wantNames(t, dir, "app.conf", "new.conf")
}

// existing creates path with the given contents, mode and owner.
func existing(t *testing.T, path, contents string, mode fs.FileMode, uid, gid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(contents), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestUnchangedRenderingLeavesTheFileAlone(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	s := spec(dest, tmplText)
	if changed, err := write(t, s, testData()); err != nil || !changed {
		t.Fatalf("first write: changed %v, %v", changed, err)
	}
	// An mtime in the past shows any later write, however fast.
	past := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(dest, past, past); err != nil {
		t.Fatal(err)
	}
	before := stat(t, dest)

	changed, err := write(t, s, testData())
	if err != nil || changed {
		t.Fatalf("second write: changed %v, %v; want false, nil", changed, err)
	}
	after := stat(t, dest)
	if after.Ino != before.Ino || after.Mtim != before.Mtim || after.Ctim != before.Ctim {
		t.Errorf("file touched: inode %d→%d, mtime %v→%v, ctime %v→%v", before.Ino, after.Ino,
			before.Mtim, after.Mtim, before.Ctim, after.Ctim)
	}

	// Same bytes but a mode the Spec now asks for: the mode is fixed, the
	// contents and mtime are not touched.
	s.Mode = 0o640
	changed, err = write(t, s, testData())
	if err != nil || changed {
		t.Fatalf("third write: changed %v, %v; want false, nil", changed, err)
	}
	after = stat(t, dest)
	if perm(after) != 0o640 || after.Ino != before.Ino || after.Mtim != before.Mtim {
		t.Errorf("mode %#o inode %d mtime %v; want 0640, inode %d, mtime %v",
			perm(after), after.Ino, after.Mtim, before.Ino, before.Mtim)
	}

	// A change in the secret is written.
	d := testData()
	d.Secrets["db"] = secret.FromString(`{"user":"app","password":"new"}`)
	if changed, err = write(t, s, d); err != nil || !changed {
		t.Fatalf("fourth write: changed %v, %v", changed, err)
	}
	if got := readFile(t, dest); got != "user=app\npassword=new\n" {
		t.Errorf("contents %q", got)
	}
	wantNames(t, dir, "app.conf")
}

func TestBinaryBytesReachTheFile(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "key.bin")
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	d := Data{Secrets: map[string]secret.Value{"key": secret.New(all)}}
	if _, err := write(t, spec(dest, "{{ .key }}{{ .key }}"), d); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dest); got != string(all)+string(all) {
		t.Errorf("file holds %q", got)
	}
}

// TestFailureLeavesNothing: a missing key creates no destination, leaves
// an existing one as it was, and leaves no temporary file.
func TestFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	s := spec(dest, "a={{ .canary }}\nb={{ .db.pasword }}\n")
	_, err := write(t, s, testData())
	want := `render: templates[0]:2:9: {{.db.pasword}}: missing key "pasword"`
	if err == nil || !strings.HasPrefix(err.Error(), want) ||
		!strings.HasSuffix(err.Error(), "(destination "+dest+")") {
		t.Fatalf("got %v\nwant %s...(destination %s)", err, want, dest)
	}
	noCanary(t, err.Error())
	wantNames(t, dir)

	existing(t, dest, "old\n", 0o600, os.Geteuid(), os.Getegid())
	if _, err := write(t, s, testData()); err == nil {
		t.Fatal("rendered; want an error")
	}
	if got := readFile(t, dest); got != "old\n" {
		t.Errorf("existing file now holds %q", got)
	}
	wantNames(t, dir, "app.conf")
}

// TestRenameFailureLeavesNoTemp makes the rename fail after the temporary
// file is written: the temp file goes, the destination stays.
func TestRenameFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	existing(t, dest, "old\n", 0o600, os.Geteuid(), os.Getegid())
	failRename(t, syscall.EIO)
	_, err := write(t, spec(dest, tmplText), testData())
	if !errors.Is(err, syscall.EIO) || !strings.HasPrefix(err.Error(),
		"render: templates[0]: writing "+dest+": rename ") {
		t.Errorf("got %v; want the rename's EIO", err)
	}
	if got := readFile(t, dest); got != "old\n" {
		t.Errorf("destination holds %q", got)
	}
	wantNames(t, dir, "app.conf")
}

// TestEXDEVRewritesInPlace: a rename within one directory cannot give
// EXDEV, so the rename is made to say it; the in-place rewrite that
// follows is real. The bind-mount tests give EBUSY for real.
func TestEXDEVRewritesInPlace(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	existing(t, dest, "a much longer old content than the new one\n", 0o640,
		os.Geteuid(), os.Getegid())
	before := stat(t, dest)
	failRename(t, syscall.EXDEV)
	changed, err := write(t, spec(dest, tmplText), testData())
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	after := stat(t, dest)
	if after.Ino != before.Ino || perm(after) != 0o640 {
		t.Errorf("inode %d→%d mode %#o; want the same inode, 0640", before.Ino, after.Ino,
			perm(after))
	}
	if got := readFile(t, dest); got != rendered {
		t.Errorf("contents %q, want %q", got, rendered)
	}
	wantNames(t, dir, "app.conf")
}

func failRename(t *testing.T, errno syscall.Errno) {
	t.Helper()
	rename = func(from, to string) error {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: errno}
	}
	t.Cleanup(func() { rename = os.Rename })
}

func TestDirectories(t *testing.T) {
	withUmask(t, 0o022)
	dir := t.TempDir()
	dest := filepath.Join(dir, "a", "b", "app.conf")
	_, err := write(t, spec(dest, "x"), testData())
	want := "render: templates[0]: writing " + dest + ": directory " + filepath.Dir(dest) +
		" does not exist; set create_dirs to create it"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	wantNames(t, dir)

	s := spec(dest, "x")
	s.CreateDirs = true
	if _, err := write(t, s, testData()); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(dir, "a"), filepath.Join(dir, "a", "b")} {
		if st := stat(t, d); perm(st) != 0o700 || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			t.Errorf("%s: mode %#o, want a directory 0700", d, st.Mode)
		}
	}
	if got := readFile(t, dest); got != "x" {
		t.Errorf("contents %q", got)
	}

	// A file where a directory should be.
	_, err = write(t, spec(filepath.Join(dest, "x"), "x"), testData())
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("got %v; want an error saying not a directory", err)
	}
}

func TestRefusesLinksAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	existing(t, target, "target\n", 0o600, os.Geteuid(), os.Getegid())
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	_, err := write(t, spec(link, "x"), testData())
	if err == nil || !strings.HasSuffix(err.Error(),
		"the destination is a symbolic link; name the file it points to") {
		t.Errorf("symlink: got %v", err)
	}
	if got := readFile(t, target); got != "target\n" {
		t.Errorf("link target now holds %q", got)
	}
	if err := Remove(spec(link, "")); err == nil {
		t.Error("Remove removed a symbolic link")
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = write(t, spec(fifo, "x"), testData())
	if err == nil || !strings.HasSuffix(err.Error(),
		"the destination is not a regular file (p---------)") {
		t.Errorf("fifo: got %v", err)
	}
	_, err = write(t, spec(dir, "x"), testData())
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: got %v", err)
	}
	wantNames(t, dir, "fifo", "link", "target")
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	if _, err := write(t, spec(dest, "x"), testData()); err != nil {
		t.Fatal(err)
	}
	if err := Remove(spec(dest, "")); err != nil {
		t.Fatal(err)
	}
	wantNames(t, dir)
	if err := Remove(spec(dest, "")); err != nil {
		t.Errorf("removing a file that is gone: %v", err)
	}
	err := Remove(spec(dir, ""))
	if err == nil || err.Error() != "render: templates[0]: removing "+dir+
		": not a regular file (d---------); left in place" {
		t.Errorf("removing a directory: %v", err)
	}
}

// TestLongName: the temporary name stays within NAME_MAX even for a
// destination whose own name uses all of it.
func TestLongName(t *testing.T) {
	dir := t.TempDir()
	base := strings.Repeat("n", 255)
	if _, err := write(t, spec(filepath.Join(dir, base), "x"), testData()); err != nil {
		t.Fatal(err)
	}
	wantNames(t, dir, base)
}
