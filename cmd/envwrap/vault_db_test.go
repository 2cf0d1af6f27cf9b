package main

// Dynamic database credentials end to end: a PostgreSQL of the test's own
// behind the real Vault core's database engine, envwrap over a child that
// logs in with what it got, by running psql, a real client.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envwrap/envwrap/source/vault/vaulttest"
)

// The dblogin child runs before TestMain: main_test.go dispatches the
// other modes.
func init() {
	if len(os.Args) > 2 && os.Args[1] == "-child" && os.Args[2] == "dblogin" {
		os.Exit(dbLoginChild(os.Args[3:]))
	}
}

// login is one line the dblogin child appends to its logins file.
type login struct {
	PID  int    `json:"pid"`
	User string `json:"user"`
	OK   bool   `json:"ok"`
	Out  string `json:"out"` // what psql said; the user on success
}

// dbLoginChild logs in to PostgreSQL at 127.0.0.1:args[2] with psql
// (args[1]) as $DB_USER with $DB_PASS, records the outcome to args[0],
// then runs as the rotate child recording to args[3].
func dbLoginChild(args []string) int {
	logins, psql, port, events := args[0], args[1], args[2], args[3]
	l := login{PID: os.Getpid(), User: os.Getenv("DB_USER")}
	out, err := psqlAs(psql, port, l.User, os.Getenv("DB_PASS"))
	l.OK, l.Out = err == nil && out == l.User, out
	b, _ := json.Marshal(l)
	f, err := os.OpenFile(logins, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 92
	}
	_, err = f.Write(append(b, '\n'))
	f.Close()
	if err != nil {
		return 91
	}
	return rotateChild([]string{events, "DB_USER,DB_PASS", ""})
}

// psqlAs asks PostgreSQL, as user, who it is, and returns what psql said.
func psqlAs(psql, port, user, pass string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-h", "127.0.0.1", "-p", port, "-U", user,
		"-d", "postgres", "-w", "-X", "-tAc", "select current_user")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pass, "PGCONNECT_TIMEOUT=5",
		"PGSSLMODE=disable")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// postgres is a PostgreSQL server a test started.
type postgres struct {
	bin  string // the directory of initdb and postgres
	psql string
	port string
	pass string // the superuser's (postgres) password
}

// pgBinDir finds initdb and postgres ($ENVWRAP_PG_BIN, Debian's
// /usr/lib/postgresql/N/bin, or $PATH) and psql, or skips the test
// naming what is missing.
func pgBinDir(t *testing.T) (bin, psql string) {
	t.Helper()
	dirs := []string{os.Getenv("ENVWRAP_PG_BIN")}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(debian) - 1; i >= 0; i-- { // the newest first, roughly
		dirs = append(dirs, debian[i])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if d == "" || !executable(filepath.Join(d, "initdb")) ||
			!executable(filepath.Join(d, "postgres")) {
			continue
		}
		bin = d
		break
	}
	if bin == "" {
		t.Skip("PostgreSQL's initdb and postgres were not found in $ENVWRAP_PG_BIN, " +
			"/usr/lib/postgresql/*/bin or $PATH: install Debian's postgresql package " +
			"to run this test")
	}
	psql = filepath.Join(bin, "psql")
	if !executable(psql) {
		p, err := exec.LookPath("psql")
		if err != nil {
			t.Skipf("psql was not found in %s or $PATH: install postgresql-client "+
				"to run this test", bin)
		}
		psql = p
	}
	return bin, psql
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// startPostgres runs initdb and postgres on 127.0.0.1 with a free port
// and no Unix socket, in a data directory under t.TempDir(), and stops
// the server by its PID when the test ends. PostgreSQL refuses to run as
// root, so as root both run as the postgres user (or nobody when there
// is none), through SysProcAttr.Credential, and own the data directory.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bin, psql := pgBinDir(t)
	_, port, _ := net.SplitHostPort(freePort(t))
	pg := &postgres{bin: bin, psql: psql, port: port, pass: rand.Text()}
	cred := pgCredential(t)
	data := pgDataDir(t, cred)

	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=scram-sha-256", "--pwfile="+pgPasswordFile(t, data, pg.pass, cred),
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}

	srv := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", pg.port,
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "max_connections=30")
	srv.Env = initdb.Env
	srv.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	logf, err := os.Create(filepath.Join(filepath.Dir(data), "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		t.Fatalf("starting postgres: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = srv.Wait()
		close(exited)
	}()
	t.Cleanup(func() { stopPostgres(t, srv.Process, exited) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := psqlAs(psql, pg.port, "postgres", pg.pass)
		if err == nil && out == "postgres" {
			return pg
		}
		select {
		case <-exited:
			t.Fatalf("postgres exited; its log:\n%s", readOrEmpty(logf.Name()))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres was not ready within 30s: %v %s; its log:\n%s",
				err, out, readOrEmpty(logf.Name()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopPostgres asks for a fast shutdown (SIGINT), then kills after ten
// seconds.
func stopPostgres(t *testing.T, p *os.Process, exited chan struct{}) {
	_ = p.Signal(syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Logf("postgres (PID %d) did not stop within 10s; killing it", p.Pid)
		_ = p.Kill()
		<-exited
	}
}

// pgCredential is who runs initdb and postgres: nil (this process's user)
// unless that is root.
func pgCredential(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		u, err = user.Lookup("nobody")
	}
	if err != nil {
		t.Skip("running as root, and neither a postgres nor a nobody user exists " +
			"to run PostgreSQL as")
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// pgDataDir makes an empty data directory owned by cred's user, and lets
// that user reach it through the test's temporary directories.
func pgDataDir(t *testing.T, cred *syscall.Credential) string {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "pgdata")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if cred == nil {
		return data
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(data, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatal(err)
	}
	return data
}

// pgPasswordFile writes the superuser's password beside data for initdb,
// readable by cred's user only. (initdb cannot read a pipe that root
// made, so /dev/stdin will not do.)
func pgPasswordFile(t *testing.T, data, pass string, cred *syscall.Credential) string {
	t.Helper()
	path := filepath.Join(filepath.Dir(data), "pwfile")
	if err := os.WriteFile(path, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// dbVault starts the Vault fixture with its database engine connected to
// pg and a role per name in roles, each with its default and max TTL.
func dbVault(t *testing.T, pg *postgres, roles map[string][2]string) *vaulttest.Server {
	t.Helper()
	v := vaulttest.Start(t)
	names := make([]string, 0, len(roles))
	for name := range roles {
		names = append(names, name)
	}
	v.Do(t, "POST", "database/config/pg", map[string]any{
		"plugin_name": "postgresql-database-plugin",
		"connection_url": "postgresql://{{username}}:{{password}}@127.0.0.1:" + pg.port +
			"/postgres?sslmode=disable",
		"username": "postgres", "password": pg.pass,
		"allowed_roles": strings.Join(names, ","),
	})
	for name, ttl := range roles {
		v.Do(t, "POST", "database/roles/"+name, map[string]any{
			"db_name": "pg",
			"creation_statements": []string{
				`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' ` +
					`VALID UNTIL '{{expiration}}';`,
				`GRANT CONNECT ON DATABASE postgres TO "{{name}}";`,
			},
			"default_ttl": ttl[0], "max_ttl": ttl[1],
		})
	}
	return v
}

// dbRun is envwrap in the background over dblogin children, whose
// logins are recorded in logins.
type dbRun struct {
	*background
	logins string
}

// startDBEnvwrap runs envwrap at debug level with the manifest body and
// Vault's address and root token.
func startDBEnvwrap(t *testing.T, v *vaulttest.Server, pg *postgres, body string) *dbRun {
	t.Helper()
	dir := t.TempDir()
	writeManifest(t, dir, body)
	r := &dbRun{logins: filepath.Join(dir, "logins.jsonl")}
	b := &background{t: t, log: filepath.Join(dir, "envwrap.log"),
		events: filepath.Join(dir, "events.jsonl"), done: make(chan struct{})}
	r.background = b
	stderr, err := os.Create(b.log)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	args := append([]string{"--log-level", "debug"},
		childArgs("dblogin", r.logins, pg.psql, pg.port, b.events)...)
	b.cmd = exec.Command(os.Args[0], args...)
	b.cmd.Dir = dir
	b.cmd.Env = testEnv(append([]string{asEnvwrap}, vaultEnv(v)...)...)
	b.cmd.Stdout, b.cmd.Stderr = stderr, stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = b.cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(b.kill)
	return r
}

// loginOf waits for the login of the child that recorded start and
// fails the test unless it worked.
func (r *dbRun) loginOf(start childEvent) login {
	r.t.Helper()
	var found login
	r.waitFor(fmt.Sprintf("the login of child %d", start.PID), func() bool {
		for line := range strings.Lines(readOrEmpty(r.logins)) {
			var l login
			if json.Unmarshal([]byte(line), &l) == nil && l.PID == start.PID {
				found = l
				return true
			}
		}
		return false
	})
	if !found.OK || found.User != start.Values["DB_USER"] || found.User == "" {
		r.t.Errorf("child %d could not log in as %q: %s", start.PID, found.User, found.Out)
	}
	return found
}

// assertNoLeak checks that envwrap's output holds none of secrets.
func (r *dbRun) assertNoLeak(secrets ...string) {
	r.t.Helper()
	log := r.stderr()
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			r.t.Errorf("a secret (%d bytes) appeared in envwrap's output", len(s))
		}
	}
}

func dbManifest(role, vaultSection string) string {
	return `version: 1
` + vaultSection + `process: {min_restart_interval: 100ms, stop_timeout: 5s}
secrets:
  - from: vault://database/creds/` + role + `
    env: {DB_USER: username, DB_PASS: password}
`
}

// TestVaultDynamicDatabaseCredentials: credentials with a 4s TTL and a
// 12s max TTL are renewed, then replaced near the max TTL; the child is
// restarted once per replacement, with a new user each time, and can log
// in with what it got. At exit only the lease still running is revoked.
func TestVaultDynamicDatabaseCredentials(t *testing.T) {
	if os.Getenv("ENVWRAP_VAULTDEV") == "" {
		t.Skip(vaulttest.Skip)
	}
	pg := startPostgres(t)
	v := dbVault(t, pg, map[string][2]string{"app": {"4s", "12s"}})
	r := startDBEnvwrap(t, v, pg, dbManifest("app", "vault: {revoke_on_exit: true}\n"))
	began := time.Now()

	const children = 3 // the first and two replacements
	var starts []childEvent
	users := map[string]bool{}
	for i := 1; i <= children; i++ {
		s := r.waitStarts(i)
		l := r.loginOf(s)
		starts = append(starts, s)
		t.Logf("child %d started %v after envwrap, as %s", i,
			s.at().Sub(began).Round(time.Millisecond), l.User)
		if users[l.User] {
			t.Errorf("child %d got the user %s again", i, l.User)
		}
		users[l.User] = true
		if i == 1 {
			continue
		}
		// Renewed at least once, then replaced, before each new child.
		log := r.stderr()
		if n := countLines(log, `msg="lease renewed"`); n < i-1 {
			t.Errorf("%d renewals logged before replacement %d", n, i-1)
		}
		if n := countLines(log, "fresh secret will replace it"); n < i-1 {
			t.Errorf("%d replacements announced before child %d", n, i)
		}
	}
	// Let the replaced lease run out in envwrap's reckoning too: only the
	// last one is to be revoked at exit.
	time.Sleep(time.Second)
	r.stop()
	r.assertStarts(children)
	if n := countLines(r.stderr(), `msg="secret changed"`); n != children-1 {
		t.Errorf("%d changes logged, want %d", n, children-1)
	}
	if n := countLines(r.stderr(), `msg="lease revoked"`); n != 1 {
		t.Errorf("%d leases revoked at exit, want 1 (the last, still valid)", n)
	}
	if n := countLines(r.stderr(), `msg="lease not revoked"`); n != 0 {
		t.Errorf("%d leases not revoked at exit:\n%s", n, r.stderr())
	}
	if n := countLines(r.stderr(), "lease renewal failed"); n != 0 {
		t.Errorf("%d renewals failed:\n%s", n, r.stderr())
	}
	secrets := []string{v.RootToken, pg.pass}
	for _, s := range starts {
		secrets = append(secrets, s.Values["DB_PASS"])
	}
	r.assertNoLeak(secrets...)
}

// TestVaultDatabaseRevokeOnExit: with vault.revoke_on_exit, envwrap's
// exit revokes the lease, and its user can no longer log in.
func TestVaultDatabaseRevokeOnExit(t *testing.T) {
	if os.Getenv("ENVWRAP_VAULTDEV") == "" {
		t.Skip(vaulttest.Skip)
	}
	pg := startPostgres(t)
	v := dbVault(t, pg, map[string][2]string{"long": {"1m", "10m"}})
	r := startDBEnvwrap(t, v, pg, dbManifest("long", "vault: {revoke_on_exit: true}\n"))
	s := r.waitStarts(1)
	l := r.loginOf(s)
	r.stop()
	r.assertStarts(1)
	if n := countLines(r.stderr(), `msg="lease revoked"`); n != 1 {
		t.Errorf("%d leases revoked, want 1; log:\n%s", n, r.stderr())
	}
	if out, err := psqlAs(pg.psql, pg.port, l.User, s.Values["DB_PASS"]); err == nil {
		t.Errorf("%s can still log in after envwrap revoked its lease: %s", l.User, out)
	}
	r.assertNoLeak(v.RootToken, pg.pass, s.Values["DB_PASS"])
}

// TestVaultDatabaseSealed: Vault sealed over the lease's renewal time,
// then unsealed before the lease ends: the renewal is retried and works,
// and the child is neither restarted nor left without a working login.
func TestVaultDatabaseSealed(t *testing.T) {
	if os.Getenv("ENVWRAP_VAULTDEV") == "" {
		t.Skip(vaulttest.Skip)
	}
	pg := startPostgres(t)
	v := dbVault(t, pg, map[string][2]string{"app": {"10s", "1m"}})
	r := startDBEnvwrap(t, v, pg, dbManifest("app", ""))
	s := r.waitStarts(1)
	l := r.loginOf(s)

	// The renewal is due 6.7s after the fetch; seal over it.
	time.Sleep(4 * time.Second)
	v.Do(t, "PUT", "sys/seal", nil)
	r.waitFor("a failed renewal", func() bool {
		return strings.Contains(r.stderr(), "lease renewal failed")
	})
	if !strings.Contains(r.stderr(), "lease renewal failed; retrying") {
		t.Errorf("a renewal that failed on a sealed Vault is not retried:\n%s", r.stderr())
	}
	time.Sleep(500 * time.Millisecond)
	v.Do(t, "PUT", "sys/unseal", map[string]any{"key": v.UnsealKey})
	r.waitFor("the lease renewed after the unseal", func() bool {
		return countLines(r.stderr(), `msg="lease renewed"`) >= 1
	})
	if err := syscall.Kill(s.PID, 0); err != nil {
		t.Errorf("the child is gone: %v", err)
	}
	if out, err := psqlAs(pg.psql, pg.port, l.User, s.Values["DB_PASS"]); err != nil ||
		out != l.User {
		t.Errorf("%s cannot log in after the unseal: %v %s", l.User, err, out)
	}
	r.stop()
	r.assertStarts(1)
	r.assertNoLeak(v.RootToken, pg.pass, s.Values["DB_PASS"])
}
