package watch

import (
	"fmt"
	"path/filepath"

	"github.com/fsnotify/fsnotify"

	"github.com/envwrap/envwrap/source"
)

// kubeData is the symlink that Kubernetes swaps, in one rename, to update
// every file of a secret or configMap volume at once.
const kubeData = "..data"

// fileEvents turns filesystem events into the targets they concern.
type fileEvents struct {
	watcher *fsnotify.Watcher // nil when no file is watched
	due     chan string       // target keys
	errs    chan error
	done    chan struct{}
}

// watchFiles watches the directory of every file:// reference. A
// directory is watched rather than the file, because editors and
// Kubernetes replace files by rename, which a watch on the file loses.
func (w *Watcher) watchFiles() (*fileEvents, error) {
	fe := &fileEvents{due: make(chan string), errs: make(chan error), done: make(chan struct{})}
	byDir := make(map[string]map[string]string) // dir → base name → target key
	for key, t := range w.targets {
		if t.ref.Scheme != source.SchemeFile {
			continue
		}
		path := w.filePath(t.ref.Locator)
		dir, base := filepath.Split(path)
		if byDir[dir] == nil {
			byDir[dir] = make(map[string]string)
		}
		byDir[dir][base] = key
	}
	if len(byDir) == 0 {
		return fe, nil
	}
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	for dir := range byDir {
		if err := watcher.Add(dir); err != nil {
			_ = watcher.Close()
			return nil, fmt.Errorf("watch: cannot watch %s: %w", dir, err)
		}
	}
	fe.watcher = watcher
	go fe.forward(byDir)
	return fe, nil
}

// forward runs until close, mapping each event to the targets it touches.
func (fe *fileEvents) forward(byDir map[string]map[string]string) {
	for {
		select {
		case ev, ok := <-fe.watcher.Events:
			if !ok {
				return
			}
			fe.route(byDir, ev)
		case err, ok := <-fe.watcher.Errors:
			if !ok {
				return
			}
			select {
			case fe.errs <- err:
			case <-fe.done:
				return
			}
		}
	}
}

func (fe *fileEvents) route(byDir map[string]map[string]string, ev fsnotify.Event) {
	dir, base := filepath.Split(ev.Name)
	names := byDir[dir]
	for name, key := range names {
		if name != base && base != kubeData {
			continue
		}
		select {
		case fe.due <- key:
		case <-fe.done:
			return
		}
	}
}

func (fe *fileEvents) close() {
	close(fe.done)
	if fe.watcher != nil {
		_ = fe.watcher.Close()
	}
}

// filePath resolves a file reference as the file backend does: relative
// to the manifest's directory.
func (w *Watcher) filePath(locator string) string {
	if filepath.IsAbs(locator) {
		return filepath.Clean(locator)
	}
	dir, err := filepath.Abs(filepath.Dir(w.cfg.Manifest.File))
	if err != nil {
		dir = filepath.Dir(w.cfg.Manifest.File)
	}
	return filepath.Join(dir, locator)
}
