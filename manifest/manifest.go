// Package manifest owns envwrap's YAML manifest: its schema, defaults and
// validation. Loading is strict: an unknown key, a null where a value is
// needed, a bad value or two entries for one variable is an error that
// names the file, line, column and field, and for a choice lists what is
// allowed. Nothing here does I/O beyond reading the file.
package manifest

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/envwrap/envwrap/source"
)

// Manifest is a validated manifest, version 1.
type Manifest struct {
	File        string // where it was read from, for messages
	Version     int
	AWS         AWS
	Vault       Vault
	Defaults    Defaults
	Secrets     []Secret
	Templates   []Template
	Agent       *Agent // nil unless the manifest has an agent section
	Health      Health
	Environment Environment
	Process     Process
}

// AWS configures the Secrets Manager and Parameter Store backends.
type AWS struct {
	Region   string // "" means the SDK's chain decides
	Endpoint string // "" means AWS itself; set only for local emulators
}

// Defaults apply to every secret that does not say otherwise.
type Defaults struct {
	Refresh  time.Duration // how often to look again; 0 means never
	OnChange Action        // what a changed secret does to the child
}

// Environment says how the child's environment is put together.
type Environment struct {
	// Inherit passes envwrap's own environment to the child. Default true.
	Inherit bool
	// SecretsWin resolves a name that is both inherited and a secret:
	// true (the default, precedence "secret") keeps the secret.
	SecretsWin bool
	// Drop lists inherited names the child does not get; a trailing *
	// matches any suffix.
	Drop []string
	// KeepVaultCredentials passes VAULT_TOKEN and the other Vault
	// credentials on to the child. Default false.
	KeepVaultCredentials bool
}

// Process configures the supervised child.
type Process struct {
	StopSignal  syscall.Signal // default SIGTERM
	StopTimeout time.Duration  // default 30s
	Splay       time.Duration  // random delay before a rotation action
	// Restart is what happens when the child exits on its own: RestartNever
	// (the default: envwrap exits with its status) or RestartOnFailure.
	Restart string
	// MaxRestarts bounds on-failure restarts; 0 means no bound.
	MaxRestarts int
	// MinRestartInterval spaces restarts caused by rotation. Default 10s.
	MinRestartInterval time.Duration
}

// The values process.restart accepts.
const (
	RestartNever     = "never"
	RestartOnFailure = "on-failure"
)

// Secret is one entry of the secrets list.
type Secret struct {
	Index     int // position in the list, from 0
	Line, Col int // where the entry starts
	From      source.Ref
	Env       string    // one variable, when env is a single name
	EnvMap    []EnvPair // variables picked from a JSON object or a path
	Prefix    string    // expansion: one variable per field or parameter
	Expand    bool      // true when prefix was given (it may be "")
	As        string    // name for templates
	Optional  bool      // a failed fetch leaves its variables unset
	// Refresh is how often to look again: the entry's refresh, or
	// defaults.refresh when it gives none. 0 means never.
	Refresh time.Duration
}

// EnvPair maps one variable to a key of the secret.
type EnvPair struct {
	Name string
	Key  string
}

// Where names the entry for messages: "envwrap.yaml:12:5 (secrets[2])".
func (s Secret) Where(file string) string {
	return fmt.Sprintf("%s:%d:%d (secrets[%d])", file, s.Line, s.Col, s.Index)
}

// ActionKind is what happens to the child when a secret changes.
type ActionKind string

// The actions that on_change accepts.
const (
	Restart ActionKind = "restart"
	Signal  ActionKind = "signal"
	None    ActionKind = "none"
)

// Action is an on_change value: restart, none, or signal:NAME.
type Action struct {
	Kind   ActionKind
	Signal syscall.Signal // for Signal
}

// Defaults for fields the manifest leaves out.
const (
	DefaultStopTimeout = 30 * time.Second
	DefaultRefresh     = 5 * time.Minute
	DefaultMaxRestarts = 10
	DefaultMinRestart  = 10 * time.Second
)

// Load reads and validates the manifest at path.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ReadError{Path: path, Err: err}
	}
	return Parse(path, data)
}

// ReadError is a manifest that could not be read at all.
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string {
	if errors.Is(e.Err, os.ErrNotExist) {
		return fmt.Sprintf("manifest: %s does not exist; name one with -c or $ENVWRAP_CONFIG",
			e.Path)
	}
	return fmt.Sprintf("manifest: cannot read %s: %v", e.Path, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }
