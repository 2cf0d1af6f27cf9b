package vault

import (
	"context"
	"strconv"

	"github.com/envwrap/envwrap/source"
)

// Versions reads the KV v2 metadata of each reference, which holds
// current_version and no value. A pinned ?version= cannot move and costs
// no call. KV v1 and other engines have no version to ask for: their ID
// is "", meaning the value must be fetched to learn whether it changed.
func (s *Source) Versions(ctx context.Context, refs []source.Ref) []source.Version {
	out := make([]source.Version, len(refs))
	for i, ref := range refs {
		out[i] = s.version(ctx, ref)
	}
	return out
}

func (s *Source) version(ctx context.Context, ref source.Ref) source.Version {
	m, err := s.mountOf(ctx, ref.Locator)
	if err != nil {
		return source.Version{Err: err}
	}
	if m.kv != 2 {
		return source.Version{}
	}
	if v := ref.Query.Get("version"); v != "" {
		return source.Version{ID: v}
	}
	path := m.path + "metadata/" + kv2Path(m, ref.Locator)
	var body struct {
		Data struct {
			CurrentVersion int `json:"current_version"`
		}
	}
	if err := s.get(ctx, path, nil, &body); err != nil {
		return source.Version{Err: s.fail("read", path, err)}
	}
	return source.Version{ID: strconv.Itoa(body.Data.CurrentVersion)}
}
