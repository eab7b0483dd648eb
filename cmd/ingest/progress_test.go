package main

import (
	"errors"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
)

// screen is the part of a terminal the progress line uses: text, \r, \n,
// ESC[nA (up), ESC[J (clear to the end), ESC[K (clear the line).
type screen struct {
	rows     []string
	row, col int
	partial  string // an escape sequence cut by a read
}

var escape = regexp.MustCompile(`^\x1b\[(\d*)([AJK])`)

func (s *screen) write(text string) {
	text, s.partial = s.partial+text, ""
	for len(text) > 0 {
		if text[0] == 0x1b && escape.FindStringSubmatch(text) == nil && len(text) < 8 {
			s.partial = text // the rest of it comes with the next read
			return
		}
		if m := escape.FindStringSubmatch(text); m != nil {
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "A":
				s.row = max(0, s.row-max(n, 1))
			case "J":
				s.rows = s.rows[:s.row+1]
				s.rows[s.row] = s.rows[s.row][:min(s.col, len(s.rows[s.row]))]
			case "K":
				s.rows[s.row] = s.rows[s.row][:min(s.col, len(s.rows[s.row]))]
			}
			text = text[len(m[0]):]
			continue
		}
		c := text[0]
		text = text[1:]
		for len(s.rows) <= s.row {
			s.rows = append(s.rows, "")
		}
		switch c {
		case '\r':
			s.col = 0
		case '\n':
			s.row++
			s.col = 0
			for len(s.rows) <= s.row {
				s.rows = append(s.rows, "")
			}
		default:
			line := s.rows[s.row]
			for len(line) < s.col {
				line += " "
			}
			if s.col < len(line) {
				line = line[:s.col] + string(c) + line[s.col+1:]
			} else {
				line += string(c)
			}
			s.rows[s.row] = line
			s.col++
		}
	}
}

var progressRE = regexp.MustCompile(`\(month (\d+)/(\d+)\).*ETA (\S+)$`)

// TestProgressLineInATerminal runs a backfill in a pseudo-terminal with log
// lines between the progress draws: the screen ends with whole log lines
// only, and the whole run's ETA shown once the first month is done is
// within 25% of the time that was really left.
func TestProgressLineInATerminal(t *testing.T) {
	// Not parallel: it measures time, so it runs before this package's
	// parallel tests start.
	// A history that starts long before the months fetched, so they hold
	// about as many resources each: the ETA assumes months alike.
	a := newAPI(t, "pty-key", hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Counts: hyperstacksim.Scales["medium"],
		Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, Latency: hyperstacksim.Latency{Min: 50 * time.Millisecond}})
	cmd := exec.Command(binary, "backfill", "--since", "2026-09", "--until", "2026-11")
	env := ingestEnv(dbtest.New(t), a.url, "pty-key")
	cmd.Env = append(env[:len(env):len(env)], "LOG_FORMAT=auto", "LOG_LEVEL=info", "INGEST_CONCURRENCY=4", "TERM=xterm", "GOTRACEBACK=all")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 400})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	type sighting struct {
		at         time.Time
		month, of  int
		eta        time.Duration
		estimating bool
	}
	var (
		mu        sync.Mutex
		scr       screen
		sightings []sighting
	)
	done := make(chan struct{})
	var total int
	var readErr error
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			total += n
			if n > 0 {
				now := time.Now()
				mu.Lock()
				scr.write(string(buf[:n]))
				if m := progressRE.FindStringSubmatch(scr.rows[scr.row]); m != nil {
					s := sighting{at: now}
					s.month, _ = strconv.Atoi(m[1])
					s.of, _ = strconv.Atoi(m[2])
					var perr error
					s.eta, perr = time.ParseDuration(m[3])
					s.estimating = perr != nil
					sightings = append(sightings, s)
				}
				mu.Unlock()
			}
			if err != nil {
				readErr = err
				return
			}
		}
	}()
	werr, hung := waitPatiently(cmd)
	ended := time.Now()
	<-done
	var exit *exec.ExitError
	if werr != nil && !errors.As(werr, &exit) {
		t.Fatal(werr)
	}
	mu.Lock()
	defer mu.Unlock()
	text := strings.Join(scr.rows, "\n")
	if hung {
		t.Fatalf("the backfill did not exit within %s; its screen, its goroutines last:\n%s", patience, text)
	}
	if cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit %d:\n%s", cmd.ProcessState.ExitCode(), text)
	}
	logs := 0
	for _, line := range scr.rows {
		switch {
		case strings.TrimSpace(line) == "", strings.HasPrefix(line, "hyperstack/default: run "):
		case strings.HasPrefix(line, "time="):
			logs++
			if strings.Contains(line, "ETA") || strings.Count(line, "time=") != 1 {
				t.Errorf("a log line ran together with the progress line: %q", line)
			}
		default:
			t.Errorf("a fragment is left on the screen: %q", line)
		}
	}
	if logs < 3 {
		t.Errorf("only %d log lines; the test needs log lines between progress draws:\n%s", logs, text)
	}
	// Each ETA shown during the second month against the time that was
	// really left then; the median must be within 25% (one draw can catch
	// a stall of a loaded machine).
	var offs []float64
	for _, s := range sightings {
		if s.month == 2 && s.of == 3 && !s.estimating {
			left := ended.Sub(s.at)
			offs = append(offs, (s.eta-left).Seconds()/left.Seconds())
		}
	}
	if len(offs) == 0 {
		t.Fatalf("no ETA was shown during the second of three months (read %d bytes, then %v); sightings: %+v\n%s", total, readErr, sightings, text)
	}
	sort.Float64s(offs)
	median := offs[len(offs)/2]
	t.Logf("ETA against the time left, during the second month: %.2f (median %+.0f%%)", offs, median*100)
	if median > 0.25 || median < -0.25 {
		t.Errorf("the ETA during the second month is off by %+.0f%% (median of %.2f)", median*100, offs)
	}
}
