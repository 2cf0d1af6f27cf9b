package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/envwrap/envwrap/source"
)

var topKeys = []string{
	"version", "aws", "vault", "defaults", "secrets", "templates", "environment", "process",
	"agent", "health",
}

// Parse validates a manifest held in data; file names it in errors.
func Parse(file string, data []byte) (*Manifest, error) {
	c := &collector{file: file}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && len(doc.Content) == 0) {
		c.at(nil, "", "is empty; it needs at least `version: 1`")
		return nil, c.err()
	}
	if err != nil {
		return nil, syntaxError(file, err)
	}

	// A second document would otherwise be ignored without a word.
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		c.at(&extra, "", "a manifest is one YAML document; remove the second `---`")
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(file, err)
	}
	m := &Manifest{File: file}
	c.top(m, doc.Content[0])
	if err := c.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// syntaxError turns yaml's "yaml: line N: ..." into the file:line form.
// yaml reports only a line, so the column is always 1, and for some
// errors the line is that of the enclosing block rather than the fault.
func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		return Errors{{File: file, Line: line, Col: 1, Msg: "invalid YAML: " + msg}}
	}
	return Errors{{File: file, Msg: "invalid YAML: " + msg}}
}

func (c *collector) top(m *Manifest, root *yaml.Node) {
	fs := c.mapping(root, "", topKeys...)
	if fs == nil {
		return
	}
	c.version(m, root, fs)
	c.vault(&m.Vault, fs)
	c.aws(&m.AWS, fs)
	c.defaults(&m.Defaults, fs)
	c.environment(&m.Environment, fs)
	c.process(&m.Process, fs)
	c.secrets(m, fs)
	c.templates(m, fs)
	c.templateNames(m, root)
	c.agent(m, fs)
	c.health(m, fs)
}

func (c *collector) version(m *Manifest, root *yaml.Node, fs map[string]field) {
	f, ok := fs["version"]
	if !ok {
		c.at(root, "version", "is required; this release reads version 1")
		return
	}
	if v, ok := c.integer(f); ok {
		if v != 1 {
			c.at(f.val, f.path, "version %d is not supported; use 1", v)
		}
		m.Version = v
	}
}

func (c *collector) aws(a *AWS, top map[string]field) {
	f, ok := top["aws"]
	if !ok {
		return
	}
	fs := c.mapping(f.val, "aws", "region", "endpoint")
	if r, ok := fs["region"]; ok {
		a.Region, _ = c.nonEmpty(r)
	}
	if e, ok := fs["endpoint"]; ok {
		a.Endpoint, _ = c.nonEmpty(e)
	}
}

func (c *collector) defaults(d *Defaults, top map[string]field) {
	d.Refresh = DefaultRefresh
	d.OnChange = Action{Kind: Restart}
	f, ok := top["defaults"]
	if !ok {
		return
	}
	fs := c.mapping(f.val, "defaults", "refresh", "on_change")
	if r, ok := fs["refresh"]; ok {
		d.Refresh, _ = c.duration(r)
	}
	if a, ok := fs["on_change"]; ok {
		d.OnChange, _ = c.action(a)
	}
}

func (c *collector) environment(e *Environment, top map[string]field) {
	e.Inherit, e.SecretsWin = true, true
	f, ok := top["environment"]
	if !ok {
		return
	}
	fs := c.mapping(f.val, "environment",
		"inherit", "precedence", "drop", "keep_vault_credentials")
	if v, ok := fs["inherit"]; ok {
		e.Inherit, _ = c.boolean(v)
	}
	if v, ok := fs["precedence"]; ok {
		p, _ := c.enum(v, "secret", "inherited")
		e.SecretsWin = p != "inherited"
	}
	if v, ok := fs["drop"]; ok {
		e.Drop, _ = c.strings(v)
		for i, pat := range e.Drop {
			if strings.Contains(strings.TrimSuffix(pat, "*"), "*") {
				c.at(v.val.Content[i], index(v.path, i), "only a trailing * is supported")
			}
		}
	}
	if v, ok := fs["keep_vault_credentials"]; ok {
		e.KeepVaultCredentials, _ = c.boolean(v)
	}
}

func (c *collector) process(p *Process, top map[string]field) {
	p.StopSignal, p.StopTimeout = syscall.SIGTERM, DefaultStopTimeout
	p.Restart, p.MaxRestarts = RestartNever, DefaultMaxRestarts
	p.MinRestartInterval = DefaultMinRestart
	f, ok := top["process"]
	if !ok {
		return
	}
	fs := c.mapping(f.val, "process", "stop_signal", "stop_timeout", "splay",
		"restart", "max_restarts", "min_restart_interval")
	c.restartPolicy(p, fs)
	if v, ok := fs["stop_signal"]; ok {
		if sig, ok := c.signal(v); ok {
			p.StopSignal = sig
		}
	}
	if v, ok := fs["stop_timeout"]; ok {
		if d, ok := c.duration(v); ok && d == 0 {
			c.at(v.val, v.path, "must be more than 0s: it is the child's time to stop "+
				"before SIGKILL")
		} else if ok {
			p.StopTimeout = d
		}
	}
	if v, ok := fs["splay"]; ok {
		p.Splay, _ = c.duration(v)
	}
}

func (c *collector) restartPolicy(p *Process, fs map[string]field) {
	if v, ok := fs["restart"]; ok {
		if r, ok := c.enum(v, RestartNever, RestartOnFailure); ok {
			p.Restart = r
		}
	}
	if v, ok := fs["max_restarts"]; ok {
		if n, ok := c.integer(v); ok && n < 0 {
			c.at(v.val, v.path, "must be 0 (no bound) or more, got %d", n)
		} else if ok {
			p.MaxRestarts = n
		}
	}
	if v, ok := fs["min_restart_interval"]; ok {
		p.MinRestartInterval, _ = c.duration(v)
	}
}

// action reads an on_change value.
func (c *collector) action(f field) (Action, bool) {
	s, ok := c.str(f)
	if !ok {
		return Action{}, false
	}
	switch {
	case s == string(Restart):
		return Action{Kind: Restart}, true
	case s == string(None):
		return Action{Kind: None}, true
	case strings.HasPrefix(s, "signal:"):
		name := strings.TrimPrefix(s, "signal:")
		sig, ok := c.signalName(f, name)
		return Action{Kind: Signal, Signal: sig}, ok
	}
	c.at(f.val, f.path, "%q is not allowed; use one of: restart, "+
		"signal:NAME (e.g. signal:SIGHUP), none", s)
	return Action{}, false
}

func (c *collector) signal(f field) (syscall.Signal, bool) {
	s, ok := c.str(f)
	if !ok {
		return 0, false
	}
	return c.signalName(f, s)
}

// signalName accepts SIGHUP, HUP and hup alike.
func (c *collector) signalName(f field, name string) (syscall.Signal, bool) {
	up := strings.ToUpper(name)
	if !strings.HasPrefix(up, "SIG") {
		up = "SIG" + up
	}
	sig := unix.SignalNum(up)
	if sig == 0 || sig == syscall.SIGKILL || sig == syscall.SIGSTOP {
		c.at(f.val, f.path, "%q is not a signal envwrap can send; use a name such as "+
			"SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1", name)
		return 0, false
	}
	return sig, true
}

// envName is what a variable name may look like.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *collector) name(f field, n *yaml.Node, s string) bool {
	if !envName.MatchString(s) {
		c.at(n, f.path, "%q is not a valid variable name: use letters, digits and _, "+
			"not starting with a digit", s)
		return false
	}
	return true
}

// refFrom parses the from field of a secret.
func (c *collector) refFrom(f field) (source.Ref, bool) {
	s, ok := c.nonEmpty(f)
	if !ok {
		return source.Ref{}, false
	}
	ref, err := source.Parse(s)
	if err != nil {
		c.at(f.val, f.path, "%v", err)
		return source.Ref{}, false
	}
	return ref, true
}
