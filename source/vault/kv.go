package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/envwrap/envwrap/secret"
	"github.com/envwrap/envwrap/source"
)

// mount is a secrets engine's mount point ("secret/") and, for KV, its
// version; kv is 0 for any other engine.
type mount struct {
	path string
	kv   int
}

// mountOf finds the mount that serves path, asking Vault once per mount.
// sys/internal/ui/mounts/PATH answers for any token with some capability
// on PATH, so it works without access to sys/mounts.
func (s *Source) mountOf(ctx context.Context, path string) (mount, error) {
	s.mountMu.Lock()
	defer s.mountMu.Unlock()
	for _, m := range s.mounts {
		if strings.HasPrefix(path+"/", m.path) {
			return m, nil
		}
	}
	var body struct {
		Data struct {
			Path    string
			Type    string
			Options map[string]string
		}
	}
	err := s.get(ctx, "sys/internal/ui/mounts/"+path, nil, &body)
	if err != nil {
		return mount{}, s.fail("find the mount of", path, err)
	}
	m := mount{path: body.Data.Path}
	if body.Data.Type == "kv" || body.Data.Type == "generic" {
		m.kv = 1
		if body.Data.Options["version"] == "2" {
			m.kv = 2
		}
	}
	if m.path == "" || !strings.HasSuffix(m.path, "/") {
		return mount{}, source.Permanent(fmt.Errorf(
			"vault: find the mount of %s at %s: no mount serves it", path, s.cfg.Address))
	}
	s.mounts = append(s.mounts, m)
	return m, nil
}

// kv2Path splits a KV v2 locator into the secret's name under the mount;
// "secret/app" and "secret/data/app" give the same name.
func kv2Path(m mount, locator string) string {
	rel := strings.TrimPrefix(locator, m.path)
	return strings.TrimPrefix(rel, "data/")
}

// kv2Response is a KV v2 read, with data kept as raw JSON so numbers keep
// their exact digits.
type kv2Response struct {
	Data struct {
		Data     json.RawMessage
		Metadata kv2Metadata
	}
}

type kv2Metadata struct {
	Version      int
	DeletionTime string `json:"deletion_time"`
	Destroyed    bool
}

func (s *Source) readKV2(ctx context.Context, ref source.Ref, m mount) (
	source.Secret, error) {
	path := m.path + "data/" + kv2Path(m, ref.Locator)
	var q url.Values
	version := ref.Query.Get("version")
	if version != "" {
		if n, err := strconv.Atoi(version); err != nil || n < 1 {
			return source.Secret{}, source.Permanent(fmt.Errorf(
				"vault: %s: ?version=%s is not a version number", path, version))
		}
		q = url.Values{"version": {version}}
	}
	var body kv2Response
	err := s.get(ctx, path, q, &body)
	md := body.Data.Metadata
	if gone := s.removed(path, version, md); gone != nil {
		return source.Secret{}, gone
	}
	if err != nil {
		return source.Secret{}, s.fail("read", pathVersion(path, version), err)
	}
	if isNull(body.Data.Data) {
		return source.Secret{}, source.Permanent(fmt.Errorf(
			"vault: read %s at %s: no data", pathVersion(path, version), s.cfg.Address))
	}
	return source.Secret{Ref: ref, Version: strconv.Itoa(md.Version),
		Value: secret.New(body.Data.Data)}, nil
}

// removed reports a version that was soft-deleted (its deletion time has
// passed) or destroyed. Vault answers 404 for these, with the metadata in
// the body. A deletion time still in the future does not count: that
// version is read.
func (s *Source) removed(path, version string, md kv2Metadata) error {
	if version == "" && md.Version != 0 {
		version = strconv.Itoa(md.Version)
	}
	where := fmt.Sprintf("vault: read %s at %s: version %s", path, s.cfg.Address, version)
	if md.Destroyed {
		return source.Permanent(fmt.Errorf("%s was destroyed: %w", where, source.ErrNotFound))
	}
	if md.DeletionTime == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, md.DeletionTime)
	if err != nil || t.After(time.Now()) {
		return nil
	}
	return source.Permanent(fmt.Errorf("%s was deleted at %s: %w",
		where, md.DeletionTime, source.ErrNotFound))
}

func pathVersion(path, version string) string {
	if version == "" {
		return path
	}
	return path + " version " + version
}

// logicalResponse is any other read: KV v1, or an engine's answer with a
// lease, such as database/creds/ROLE.
type logicalResponse struct {
	LeaseID       string `json:"lease_id"`
	LeaseDuration int    `json:"lease_duration"`
	Renewable     bool
	Data          json.RawMessage
}

func (s *Source) readKV1(ctx context.Context, ref source.Ref) (source.Secret, error) {
	if v := ref.Query.Get("version"); v != "" {
		return source.Secret{}, source.Permanent(fmt.Errorf(
			"vault: %s is on a KV version 1 mount at %s, which has no versions; "+
				"remove ?version=%s", ref.Locator, s.cfg.Address, v))
	}
	return s.readLogical(ctx, ref)
}

func (s *Source) readLogical(ctx context.Context, ref source.Ref) (source.Secret, error) {
	if v := ref.Query.Get("version"); v != "" {
		return source.Secret{}, source.Permanent(fmt.Errorf(
			"vault: %s at %s is not on a KV version 2 mount; ?version=%s applies only there",
			ref.Locator, s.cfg.Address, v))
	}
	var body logicalResponse
	if err := s.get(ctx, ref.Locator, nil, &body); err != nil {
		return source.Secret{}, s.fail("read", ref.Locator, err)
	}
	if isNull(body.Data) {
		return source.Secret{}, source.Permanent(fmt.Errorf(
			"vault: read %s at %s: no data: %w", ref.Locator, s.cfg.Address, source.ErrNotFound))
	}
	sec := source.Secret{Ref: ref, Value: secret.New(body.Data)}
	if body.LeaseID != "" {
		sec.Lease = source.Lease{ID: body.LeaseID, Renewable: body.Renewable,
			Duration: time.Duration(body.LeaseDuration) * time.Second}
		s.remember(sec.Lease)
	}
	return sec, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// get reads path and decodes the JSON answer into out. On an error status
// the body is still decoded when it is JSON: KV v2 puts a deleted
// version's metadata there.
func (s *Source) get(ctx context.Context, path string, q url.Values, out any) error {
	resp, err := s.client.Logical().ReadRawWithDataWithContext(ctx, path, q)
	if resp != nil {
		defer resp.Body.Close()
		if derr := decode(resp, out); err == nil && derr != nil {
			return fmt.Errorf("decoding the answer: %w", derr)
		}
	}
	return err
}

func decode(resp *api.Response, out any) error {
	dec := json.NewDecoder(resp.Body)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
