package manifest

import (
	"net"
	"strconv"
)

// Agent configures envwrap agent, which has no child of its own: it keeps
// files fresh for an application that runs beside it, and tells that
// application when they change.
type Agent struct {
	// PIDFile names a file holding the application's PID.
	PIDFile string
	// ProcessName finds the application by its name in /proc/PID/comm, in
	// a shared process namespace (Kubernetes shareProcessNamespace, ECS
	// pidMode: task).
	ProcessName string
	// Command is run after a change, as well as or instead of a signal.
	Command []string
}

// Health configures the health and metrics listener.
type Health struct {
	Listen string // host:port; "" means no listener
}

func (c *collector) agent(m *Manifest, top map[string]field) {
	f, ok := top["agent"]
	if !ok {
		return
	}
	fs := c.mapping(f.val, "agent", "notify", "command")
	if fs == nil {
		return
	}
	a := &Agent{}
	if v, ok := fs["notify"]; ok {
		c.notify(a, v)
	}
	if v, ok := fs["command"]; ok {
		a.Command, _ = c.strings(v)
		if len(a.Command) == 0 {
			c.at(v.val, v.path, "must name a program to run")
		}
	}
	if a.PIDFile == "" && a.ProcessName == "" && len(a.Command) == 0 {
		c.at(f.val, "agent", "needs notify (pid_file or process_name) or command: "+
			"say how the application learns of a change")
	}
	m.Agent = a
}

func (c *collector) notify(a *Agent, f field) {
	fs := c.mapping(f.val, f.path, "pid_file", "process_name")
	pid, hasPID := fs["pid_file"]
	name, hasName := fs["process_name"]
	switch {
	case hasPID && hasName:
		c.at(name.key, name.path, "cannot be used with pid_file; give one of them")
	case hasPID:
		if p, ok := c.nonEmpty(pid); ok {
			a.PIDFile = p
		}
	case hasName:
		a.ProcessName, _ = c.nonEmpty(name)
	case fs != nil:
		c.at(f.val, f.path, "needs pid_file or process_name")
	}
}

func (c *collector) health(m *Manifest, top map[string]field) {
	f, ok := top["health"]
	if !ok {
		return
	}
	fs := c.mapping(f.val, "health", "listen")
	m.Health.Listen = "127.0.0.1:9102"
	v, ok := fs["listen"]
	if !ok {
		return
	}
	addr, ok := c.nonEmpty(v)
	if !ok {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 ||
		(host != "" && net.ParseIP(host) == nil && host != "localhost") {
		c.at(v.val, v.path, "want host:port with an IP address, such as 127.0.0.1:9102, "+
			"got %q", addr)
		return
	}
	m.Health.Listen = addr
}
