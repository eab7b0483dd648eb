package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Config is every setting of the ingest worker, from flags and the
// environment. Flags win over the environment, which wins over defaults.
type Config struct {
	DatabaseURL      string
	ConfigFile       string // the sources; empty: the environment's one source
	Parallel         int    // sources run at once
	Concurrency      int
	Rate             int
	Timeout          time.Duration
	Lookback         time.Duration
	FullRefreshEvery time.Duration
	LogFormat        string // auto, json or text
	LogLevel         string // debug, info, warn, error
	Schedule         string // cron spec of serve
	Listen           string // address of serve's HTTP endpoints
	ShutdownGrace    time.Duration
	RunAtStart       bool
	// HistoryStart is the earliest billing month a backfill may ask for.
	HistoryStart time.Time
	// MaxRateLimitPause caps the pause a 429's Retry-After may impose.
	MaxRateLimitPause time.Duration
	// MaxRunDuration cancels a run that holds its lock longer.
	MaxRunDuration time.Duration
	WritePath      string // auto, plain or citus (store.WritePath)
}

// ErrInvalid marks a configuration that cannot work.
var ErrInvalid = errors.New("invalid configuration")

// setting is one row of the configuration table.
type setting struct {
	flag, env, def, usage string
	secret                bool
	// arg names the value in --help (N, DURATION…); empty for a boolean,
	// which may be given bare (--run-at-start).
	arg   string
	apply func(c *Config, v string) error
}

func durationSetting(dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration like 30s or 72h, got %q", v)
		}
		*dst(c) = d
		return nil
	}
}

func intSetting(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("want a positive integer, got %q", v)
		}
		*dst(c) = n
		return nil
	}
}

func stringSetting(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

// Settings is the table of every setting, for flags, the environment and
// the README.
var Settings = []setting{
	{"database-url", "DATABASE_URL", "", "PostgreSQL connection string (or DATABASE_URL_FILE)", true, "URL",
		stringSetting(func(c *Config) *string { return &c.DatabaseURL })},
	{"config", "INGEST_CONFIG", "", "YAML file listing the sources (without it, the environment describes one source per provider, account \"default\")", false, "FILE",
		stringSetting(func(c *Config) *string { return &c.ConfigFile })},
	{"parallel", "INGEST_PARALLEL", "4", "sources run at once", false, "N",
		intSetting(func(c *Config) *int { return &c.Parallel })},
	{"concurrency", "INGEST_CONCURRENCY", "8", "requests in flight at most, per source", false, "N",
		intSetting(func(c *Config) *int { return &c.Concurrency })},
	{"rate", "INGEST_RATE", "450", "requests per minute of a source, for all its workers together (sources of a provider limited per IP share one pacer)", false, "N",
		intSetting(func(c *Config) *int { return &c.Rate })},
	{"timeout", "INGEST_TIMEOUT", "30s", "time limit of one request, body included", false, "DURATION",
		durationSetting(func(c *Config) *time.Duration { return &c.Timeout })},
	{"lookback", "INGEST_LOOKBACK", "72h", "how long into a month the previous month is still re-fetched", false, "DURATION",
		durationSetting(func(c *Config) *time.Duration { return &c.Lookback })},
	{"full-refresh-every", "INGEST_FULL_REFRESH_EVERY", "24h", "re-fetch a resource whose list entry looks unchanged after this long", false, "DURATION",
		durationSetting(func(c *Config) *time.Duration { return &c.FullRefreshEvery })},
	{"history-start", "INGEST_HISTORY_START", "2020-01", "the earliest billing month a backfill may ask for, YYYY-MM (the providers' history starts later)", false, "YYYY-MM",
		func(c *Config, v string) error {
			t, err := time.ParseInLocation("2006-01", v, time.UTC)
			if err != nil || t.Year() < 2000 {
				return fmt.Errorf("want a month like 2020-01, from 2000 on, got %q", v)
			}
			c.HistoryStart = t
			return nil
		}},
	{"max-rate-limit-pause", "INGEST_MAX_RATE_LIMIT_PAUSE", "5m", "the longest pause a 429's Retry-After may impose; past it the request fails (a unit error) instead of waiting", false, "DURATION",
		durationSetting(func(c *Config) *time.Duration { return &c.MaxRateLimitPause })},
	{"max-run-duration", "INGEST_MAX_RUN_DURATION", "12h", "a run still going after this long is cancelled (recorded as such) and frees its lock", false, "DURATION",
		durationSetting(func(c *Config) *time.Duration { return &c.MaxRunDuration })},
	{"log-format", "LOG_FORMAT", "auto", "auto (text on a terminal, JSON otherwise), json or text", false, "FORMAT",
		stringSetting(func(c *Config) *string { return &c.LogFormat })},
	{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error", false, "LEVEL",
		stringSetting(func(c *Config) *string { return &c.LogLevel })},
	{"schedule", "INGEST_SCHEDULE", "@hourly", "when serve runs: 5-field cron or a descriptor (@hourly, @every 30m); CRON_TZ=Zone prefix allowed; UTC otherwise", false, "SPEC",
		func(c *Config, v string) error {
			if _, err := cron.ParseStandard(v); err != nil {
				return fmt.Errorf("%q is not a schedule: %v", v, err)
			}
			c.Schedule = v
			return nil
		}},
	{"listen", "INGEST_LISTEN", "127.0.0.1:9090", "address of serve's /healthz, /readyz and /metrics", false, "ADDR",
		stringSetting(func(c *Config) *string { return &c.Listen })},
	{"shutdown-grace", "INGEST_SHUTDOWN_GRACE", "30s", "after SIGINT/SIGTERM, how long work in flight may finish before it is cancelled", false, "DURATION",
		durationSetting(func(c *Config) *time.Duration { return &c.ShutdownGrace })},
	{"run-at-start", "INGEST_RUN_AT_START", "false", "serve: run once at start, then on schedule", false, "",
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("want true or false, got %q", v)
			}
			c.RunAtStart = b
			return nil
		}},
	{"write-path", "INGEST_WRITE_PATH", "auto", "the writer's statements: plain (fastest on one PostgreSQL server), citus (valid on Citus and on PostgreSQL), or auto (citus when the citus extension is installed)", false, "MODE",
		func(c *Config, v string) error {
			switch v {
			case "auto", "plain", "citus":
				c.WritePath = v
				return nil
			}
			return fmt.Errorf("want auto, plain or citus, got %q", v)
		}},
}

// PrintDefaults is the flag package's, but a setting's value is named in
// its own words (N, DURATION, URL…) rather than "value".
func PrintDefaults(fs *flag.FlagSet) {
	out := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if i := slices.IndexFunc(Settings, func(s setting) bool { return s.flag == f.Name }); i >= 0 {
			name, usage = Settings[i].arg, fmt.Sprintf("%s (env %s)", Settings[i].usage, Settings[i].env)
		}
		line := "  -" + f.Name
		if name != "" {
			line += " " + name
		}
		line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			line += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintln(out, line)
	})
}

// boolValue is a boolean setting's flag: given bare, it is true.
type boolValue struct{ v *string }

func (b boolValue) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}
func (b boolValue) Set(v string) error { *b.v = v; return nil }
func (b boolValue) IsBoolFlag() bool   { return true }

// stringValue is a setting's flag; its value is checked by Load.
type stringValue struct{ v *string }

func (s stringValue) String() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}
func (s stringValue) Set(v string) error { *s.v = v; return nil }

// secretValue is a flag whose value --help never shows.
type secretValue struct{ v *string }

func (s secretValue) String() string {
	if s.v == nil || *s.v == "" {
		return ""
	}
	return "(set)"
}
func (s secretValue) Set(v string) error { *s.v = v; return nil }

// Register adds the named settings' flags to fs. Their values are read by
// Load after fs.Parse.
func Register(fs *flag.FlagSet, names ...string) *Flags {
	f := &Flags{fs: fs, values: map[string]*string{}}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of %s:\n", fs.Name())
		PrintDefaults(fs)
	}
	for _, s := range Settings {
		if !slices.Contains(names, s.flag) {
			continue
		}
		v := new(string)
		f.values[s.flag] = v
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		if s.arg != "" {
			usage = "`" + s.arg + "` " + usage // PrintDefaults shows the name, not the quote
		}
		if s.secret {
			// Loaded now so --help can say a value is set; String never
			// shows it. A bad *_FILE is reported by Load.
			*v, _ = Secret(s.env)
			fs.Var(secretValue{v}, s.flag, usage)
			continue
		}
		def := s.def
		if e, ok := os.LookupEnv(s.env); ok && e != "" {
			def = e
		}
		*v = def
		if s.arg == "" {
			fs.Var(boolValue{v}, s.flag, usage)
			continue
		}
		fs.Var(stringValue{v}, s.flag, usage)
	}
	return f
}

// Flags holds a command's registered settings.
type Flags struct {
	fs     *flag.FlagSet
	values map[string]*string
}

// Load resolves the registered settings and validates them.
func (f *Flags) Load() (Config, error) {
	var c Config
	for _, s := range Settings {
		v := s.def
		if p, ok := f.values[s.flag]; ok && *p != "" {
			v = *p
		} else if s.secret {
			secret, err := Secret(s.env)
			if err != nil {
				return Config{}, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			if secret != "" {
				v = secret
			}
		} else if e, ok := os.LookupEnv(s.env); ok && e != "" {
			v = e
		}
		if err := s.apply(&c, v); err != nil {
			return Config{}, fmt.Errorf("%w: --%s / %s: %v", ErrInvalid, s.flag, s.env, err)
		}
	}
	if c.DatabaseURL == "" && f.values["database-url"] != nil {
		return Config{}, fmt.Errorf("%w: no database: set DATABASE_URL or DATABASE_URL_FILE", ErrInvalid)
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		return Config{}, fmt.Errorf("%w: LOG_FORMAT must be auto, json or text", ErrInvalid)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return Config{}, fmt.Errorf("%w: LOG_LEVEL must be debug, info, warn or error", ErrInvalid)
	}
	return c, nil
}
