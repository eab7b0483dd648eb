package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/billing-warehouse/billing-warehouse/ingest"
)

// The config file lists the sources a warehouse ingests:
//
//	sources:
//	  - provider: hyperstack
//	    account: acme-prod
//	    api_key_file: /run/secrets/hyperstack_prod
//	  - provider: hyperstack
//	    account: acme-lab
//	    api_url: http://127.0.0.1:8089/v1
//	    api_key: ${HYPERSTACK_LAB_KEY}
//	    rate: 200
//
// Each entry has the common keys below and its provider's own. A secret is
// never written in the file: it comes from KEY_file (a path) or KEY:
// ${ENV}. Every mistake is reported with the entry it is in, before any
// request is made.

// commonKeys are the keys of every entry, whatever its provider.
var commonKeys = []string{"provider", "account", "display_name", "rate", "concurrency", "lookback"}

// accountName is what an account may be called: it goes into keys, lock
// names and metric labels.
var accountName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// LoadSources reads the config file at path.
func LoadSources(path string) ([]ingest.SourceConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: config file: %v", ErrInvalid, err)
	}
	return ParseSources(path, data)
}

// ParseSources reads a config file's contents; name is for messages.
func ParseSources(name string, data []byte) ([]ingest.SourceConfig, error) {
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("%w: %s:%d: %s", ErrInvalid, name, line, fmt.Sprintf(format, args...))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%w: %s: empty; it needs a list of sources", ErrInvalid, name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, "want a mapping with the key sources")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Value != "sources" {
			return nil, fail(k.Line, "unknown key %q (the file has one key: sources)", k.Value)
		}
		list = root.Content[i+1]
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, fail(root.Line, "sources must be a non-empty list")
	}
	var out []ingest.SourceConfig
	seen := map[string]int{}
	for i, entry := range list.Content {
		sc, err := parseEntry(entry)
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: sources[%d]: %v", ErrInvalid, name, entry.Line, i, err)
		}
		id := sc.Provider + "/" + sc.Account
		if first, dup := seen[id]; dup {
			return nil, fail(entry.Line, "sources[%d]: %s is configured twice (first at line %d)", i, id, first)
		}
		seen[id] = entry.Line
		out = append(out, sc)
	}
	return out, nil
}

// parseEntry reads one source of the file.
func parseEntry(entry *yaml.Node) (ingest.SourceConfig, error) {
	if entry.Kind != yaml.MappingNode {
		return ingest.SourceConfig{}, fmt.Errorf("want a mapping of keys")
	}
	raw := map[string]string{}
	var order []string
	for i := 0; i+1 < len(entry.Content); i += 2 {
		k, v := entry.Content[i], entry.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return ingest.SourceConfig{}, fmt.Errorf("%s: want a single value", k.Value)
		}
		if _, dup := raw[k.Value]; dup {
			return ingest.SourceConfig{}, fmt.Errorf("%s appears twice", k.Value)
		}
		raw[k.Value] = v.Value
		order = append(order, k.Value)
	}
	sc := ingest.SourceConfig{Provider: raw["provider"], Account: raw["account"], DisplayName: raw["display_name"], Settings: map[string]string{}}
	who := sc.Provider + "/" + sc.Account
	if sc.Provider == "" {
		return sc, fmt.Errorf("no provider")
	}
	p, ok := ingest.LookupProvider(sc.Provider)
	if !ok {
		return sc, fmt.Errorf("%s: unknown provider %q (known: %s)", who, sc.Provider, providerNames())
	}
	if !accountName.MatchString(sc.Account) {
		return sc, fmt.Errorf("%s: account must be 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", who)
	}
	for _, k := range order {
		if slices.Contains(commonKeys, k) {
			continue
		}
		base := strings.TrimSuffix(k, "_file")
		i := slices.IndexFunc(p.Keys, func(key ingest.Key) bool { return key.Name == base })
		if i < 0 || (k != base && !p.Keys[i].Secret) {
			return sc, fmt.Errorf("%s: unknown key %q (a %s source takes: %s)", who, k, p.Name, keyNames(p))
		}
	}
	var err error
	if v, ok := raw["rate"]; ok {
		if sc.Rate, err = strconv.Atoi(v); err != nil || sc.Rate <= 0 {
			return sc, fmt.Errorf("%s: rate: want requests per minute, a positive integer, got %q", who, v)
		}
	}
	if v, ok := raw["concurrency"]; ok {
		if sc.Concurrency, err = strconv.Atoi(v); err != nil || sc.Concurrency <= 0 {
			return sc, fmt.Errorf("%s: concurrency: want a positive integer, got %q", who, v)
		}
	}
	if v, ok := raw["lookback"]; ok {
		if sc.Lookback, err = time.ParseDuration(v); err != nil || sc.Lookback <= 0 {
			return sc, fmt.Errorf("%s: lookback: want a duration like 72h, got %q", who, v)
		}
	}
	for _, key := range p.Keys {
		v, err := keyValue(key, raw)
		if err != nil {
			return sc, fmt.Errorf("%s: %v", who, err)
		}
		if v == "" {
			v = key.Default
		}
		if v == "" && key.Required {
			how := key.Name
			if key.Secret {
				how = key.Name + "_file or " + key.Name + ": ${ENV}"
			}
			return sc, fmt.Errorf("%s: %s is required (%s)", who, key.Name, how)
		}
		if v != "" {
			sc.Settings[key.Name] = v
		}
	}
	return sc, nil
}

// keyValue resolves one provider key of an entry: KEY_file reads a file,
// ${ENV} references are expanded, and a secret must come from one of them.
func keyValue(key ingest.Key, raw map[string]string) (string, error) {
	v, direct := raw[key.Name]
	path, fromFile := raw[key.Name+"_file"]
	switch {
	case direct && fromFile:
		return "", fmt.Errorf("both %s and %s_file are set", key.Name, key.Name)
	case fromFile:
		data, err := os.ReadFile(expand(path))
		if err != nil {
			return "", fmt.Errorf("%s_file: %v", key.Name, err)
		}
		s := strings.TrimRight(string(data), "\r\n")
		if s == "" {
			return "", fmt.Errorf("%s_file %s is empty", key.Name, path)
		}
		return s, nil
	case !direct:
		return "", nil
	}
	if key.Secret && !envRef.MatchString(v) {
		return "", fmt.Errorf("%s: a secret is never written in the config file: use %s_file: PATH or %s: ${ENV_VAR}", key.Name, key.Name, key.Name)
	}
	for _, m := range envRef.FindAllStringSubmatch(v, -1) {
		if os.Getenv(m[1]) == "" {
			return "", fmt.Errorf("%s: the environment variable %s is not set", key.Name, m[1])
		}
	}
	return expand(v), nil
}

func expand(s string) string {
	return envRef.ReplaceAllStringFunc(s, func(ref string) string { return os.Getenv(envRef.FindStringSubmatch(ref)[1]) })
}

func keyNames(p ingest.Provider) string {
	var names []string
	for _, k := range p.Keys {
		names = append(names, k.Name)
		if k.Secret {
			names[len(names)-1] += "(_file)"
		}
	}
	return strings.Join(append(names, commonKeys[2:]...), ", ")
}

func providerNames() string {
	var names []string
	for _, p := range ingest.Providers() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// EnvSources describes the sources the environment gives without a config
// file: for each provider whose required keys are set in its variables
// (or their *_FILE files), one source with the account "default". This is
// how a single organisation was configured before the config file.
func EnvSources() ([]ingest.SourceConfig, error) {
	var out []ingest.SourceConfig
	for _, p := range ingest.Providers() {
		sc := ingest.SourceConfig{Provider: p.Name, Account: "default", Settings: map[string]string{}}
		complete := true
		for _, key := range p.Keys {
			if key.Env == "" {
				continue
			}
			v, err := Secret(key.Env)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			if v == "" {
				v = key.Default
			}
			if v == "" && key.Required {
				complete = false
			}
			if v != "" {
				sc.Settings[key.Name] = v
			}
		}
		if complete {
			out = append(out, sc)
		}
	}
	return out, nil
}

// Sources are the configured sources: the config file's, or the
// environment's. None is a mistake, said with what to set.
func (c Config) Sources() ([]ingest.SourceConfig, error) {
	if c.ConfigFile != "" {
		return LoadSources(c.ConfigFile)
	}
	out, err := EnvSources()
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		var hints []string
		for _, p := range ingest.Providers() {
			for _, k := range p.Keys {
				if k.Required && k.Env != "" {
					hints = append(hints, k.Env+" (or "+k.Env+"_FILE)")
				}
			}
		}
		return nil, fmt.Errorf("%w: no sources: set INGEST_CONFIG (or --config) to a config file, or %s", ErrInvalid, strings.Join(hints, ", "))
	}
	return out, nil
}
