package render

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Write renders the template and writes the result to its destination.
// changed is false when the file already held exactly these bytes; then
// its contents and mtime are left alone, and only a mode or owner that
// the Spec sets and the file lacks is corrected.
func (t *Template) Write(d Data) (changed bool, err error) {
	out, err := t.Execute(d)
	if err != nil {
		return false, err
	}
	defer clear(out) // the rendering holds secrets; drop them once written
	return t.WriteRendered(out)
}

// RenderAll renders every template in memory, so that a caller can write
// the files only once all of them rendered: one that fails then leaves
// every file as it was. Clear the result once the files are written.
func RenderAll(ts []*Template, d Data) (Rendered, error) {
	out := make(Rendered, len(ts))
	for i, t := range ts {
		b, err := t.Execute(d)
		if err != nil {
			out.Clear()
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// Rendered is the output of RenderAll, one rendering per template.
type Rendered [][]byte

// Clear drops the renderings, which hold secrets.
func (r Rendered) Clear() {
	for _, b := range r {
		clear(b)
	}
}

// WriteRendered writes out, a rendering of t, to t's destination, as
// Write does.
func (t *Template) WriteRendered(out []byte) (changed bool, err error) {
	changed, err = writeFile(t.spec, out)
	if err != nil {
		return false, fmt.Errorf("render: %s: writing %s: %w",
			t.spec.Name, t.spec.Destination, err)
	}
	return changed, nil
}

// Remove deletes a rendered file, for "remove rendered files when the
// child exits". A file that is already gone is not an error. A
// destination that is a mount point (a bind-mounted file) cannot be
// unlinked, so it is emptied instead, which removes the secret all the
// same. Anything but a regular file is left in place, with an error.
func Remove(s Spec) error {
	if err := remove(s.Destination); err != nil {
		return fmt.Errorf("render: %s: removing %s: %w",
			cmp.Or(s.Name, s.Source, "template"), s.Destination, err)
	}
	return nil
}

func remove(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%v); left in place", fi.Mode().Type())
	}
	err = unix.Unlink(path)
	if errors.Is(err, unix.EBUSY) {
		return truncate(path)
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func truncate(path string) error {
	f, err := openExisting(path, os.O_WRONLY)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return err
	}
	return closeSynced(f)
}

// current is what a destination holds before a write.
type current struct {
	exists   bool
	same     bool // it holds exactly the new rendering
	mode     fs.FileMode
	uid, gid int
}

// attrs are a file's mode and owner as they are to be.
type attrs struct {
	mode     fs.FileMode
	uid, gid int // -1: whatever a new file gets
}

func writeFile(s Spec, data []byte) (bool, error) {
	cur, err := inspect(s.Destination, data)
	if err != nil {
		return false, err
	}
	want := target(s, cur)
	if cur.same {
		return false, fixAttrs(s.Destination, want)
	}
	if !cur.exists {
		if err := ensureDir(filepath.Dir(s.Destination), s.CreateDirs); err != nil {
			return false, err
		}
	}
	return true, replace(s.Destination, data, want, cur.exists)
}

// openExisting opens a file that must already exist without following a
// symbolic link at its end (a link there is not ours to write through),
// and without blocking should a FIFO have been put in its place.
func openExisting(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, errors.New("the destination is a symbolic link; name the file it points to")
	}
	return f, err
}

func inspect(path string, data []byte) (current, error) {
	f, err := openExisting(path, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return current{}, nil
	}
	if err != nil {
		return current{}, err
	}
	defer f.Close()
	fi, err := regular(f)
	if err != nil {
		return current{}, err
	}
	st := fi.Sys().(*syscall.Stat_t)
	c := current{exists: true, mode: fi.Mode() & modeBits, uid: int(st.Uid), gid: int(st.Gid)}
	if fi.Size() == int64(len(data)) {
		c.same, err = holds(f, data)
	}
	return c, err
}

func regular(f *os.File) (fs.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the destination is not a regular file (%v)", fi.Mode().Type())
	}
	return fi, nil
}

// holds reports whether r holds exactly data.
func holds(r io.Reader, data []byte) (bool, error) {
	got, err := io.ReadAll(io.LimitReader(r, int64(len(data))+1))
	same := err == nil && bytes.Equal(got, data)
	clear(got) // the old rendering is as secret as the new one
	return same, err
}

// target is the mode and owner the file must end with: what the Spec
// says, else what the file has, else 0600 and the process's own.
func target(s Spec, cur current) attrs {
	a := attrs{mode: s.Mode, uid: s.UID, gid: s.GID}
	if a.mode == 0 {
		a.mode = 0o600
		if cur.exists {
			a.mode = cur.mode
		}
	}
	if cur.exists {
		if a.uid < 0 {
			a.uid = cur.uid
		}
		if a.gid < 0 {
			a.gid = cur.gid
		}
	}
	return a
}

// fixAttrs corrects the mode and owner of an unchanged file, if needed,
// without touching its contents.
func fixAttrs(path string, a attrs) error {
	f, err := openExisting(path, os.O_RDONLY)
	if err != nil {
		return err
	}
	err = apply(f, a)
	return errors.Join(err, f.Close())
}

// apply gives an open file its owner and mode, changing only what differs.
func apply(f *os.File, a attrs) error {
	fi, err := regular(f)
	if err != nil {
		return err
	}
	st := fi.Sys().(*syscall.Stat_t)
	uid, gid := a.uid, a.gid
	if uid == int(st.Uid) {
		uid = -1
	}
	if gid == int(st.Gid) {
		gid = -1
	}
	if uid >= 0 || gid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			return fmt.Errorf("setting the owner to %d:%d: %w", a.uid, a.gid, err)
		}
	}
	// A chown clears setuid and setgid, so the mode is set after it.
	if a.mode != fi.Mode()&modeBits || uid >= 0 || gid >= 0 {
		if err := f.Chmod(a.mode); err != nil {
			return fmt.Errorf("setting the mode to %#o: %w", a.mode, err)
		}
	}
	return nil
}

// rename is os.Rename; tests replace it to produce EXDEV, which a
// rename within one directory cannot otherwise give.
var rename = os.Rename

// replace writes data to a new file beside path and renames it over
// path. Where that cannot work it rewrites path in place: when the
// directory refuses a new file but the destination exists (a read-only
// directory holding a bind-mounted file), or when rename says EBUSY (the
// destination is a mount point) or EXDEV (another filesystem).
func replace(path string, data []byte, a attrs, exists bool) error {
	dir := filepath.Dir(path)
	tmp, err := createTemp(dir, filepath.Base(path), a)
	if err != nil {
		if exists && (errors.Is(err, unix.EROFS) || errors.Is(err, unix.EACCES) ||
			errors.Is(err, unix.EPERM)) {
			return rewrite(path, data, a)
		}
		return err
	}
	name := tmp.Name()
	if err := writeSynced(tmp, data); err != nil {
		return discard(name, err)
	}
	if err := rename(name, path); err != nil {
		if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EBUSY) {
			return discard(name, rewrite(path, data, a))
		}
		return discard(name, err)
	}
	return syncDir(dir)
}

// createTemp creates an empty file in dir, exclusively, and gives it its
// final owner and mode before a byte is written. The owner comes first so
// that the file is never more open than needed while it is still ours.
func createTemp(dir, base string, a attrs) (*os.File, error) {
	for range 10 {
		name := filepath.Join(dir, tempName(base))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := apply(f, a); err != nil {
			f.Close()
			return nil, discard(name, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("could not find a free temporary name in %s", dir)
}

// tempName is a hidden name beside the destination. The base is cut
// short so that the name stays within the 255 bytes a name may have.
func tempName(base string) string {
	if len(base) > 128 {
		base = base[:128]
	}
	var r [8]byte
	for i := range r {
		r[i] = byte(rand.Uint32())
	}
	return "." + base + ".envwrap-" + hex.EncodeToString(r[:]) + ".tmp"
}

// discard removes a temporary file after a failure; a temp file that
// cannot be removed is reported too, since none may be left behind.
func discard(name string, err error) error {
	if rerr := os.Remove(name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return errors.Join(err, rerr)
	}
	return err
}

// rewrite writes data into the existing file at path, keeping its inode.
// Unlike a rename this is not atomic: a reader can see a part-written
// file. The owner and mode are set before the old contents are cut, so a
// failure there leaves the file as it was.
func rewrite(path string, data []byte, a attrs) error {
	f, err := openExisting(path, os.O_WRONLY)
	if err != nil {
		return fmt.Errorf("rewriting in place: %w", err)
	}
	if err := apply(f, a); err != nil {
		f.Close()
		return fmt.Errorf("rewriting in place: %w", err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return fmt.Errorf("rewriting in place: %w", err)
	}
	if err := writeSynced(f, data); err != nil {
		return fmt.Errorf("rewriting in place: %w", err)
	}
	return nil
}

// writeSynced writes data, syncs it to disk and closes f.
func writeSynced(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return closeSynced(f)
}

func closeSynced(f *os.File) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename or a new entry in dir durable. Some filesystems
// cannot sync a directory and say EINVAL; there is nothing more to do.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, unix.EINVAL) {
		err = nil
	}
	return errors.Join(err, d.Close())
}

// ensureDir checks that dir exists, or creates it when asked to.
func ensureDir(dir string, create bool) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("%s is not a directory", dir)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	case !create:
		return fmt.Errorf("directory %s does not exist; set create_dirs to create it", dir)
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := ensureDir(parent, true); err != nil {
			return err
		}
	}
	return mkdir(dir)
}

// mkdir creates dir 0700 whatever the umask, and makes its entry durable.
func mkdir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrExist) {
		return nil // made by someone else meanwhile: not ours to chmod
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}
