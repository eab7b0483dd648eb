package cloudsigma

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// usageReplay rolls the /usage/ pages a reprocess replays up by day. A
// day's rows need every poll of the day, and a page holds a few, so
// nothing is written until every payload has been seen (ReplayDone).
// Pages of the same polls from different runs overlap: a poll counts
// once, from whichever page holds it whole first; a past poll's samples
// do not change.
type usageReplay struct {
	mu   sync.Mutex
	days map[time.Time]*replayDay
}

type replayDay struct {
	polls map[time.Time]bool
	sums  roller
}

// add takes a stored /usage/ page: the samples of the polls it holds whole.
func (u *usageReplay) add(body []byte, params string) error {
	limit := 0
	if _, query, ok := strings.Cut(params, "?"); ok {
		if q, err := url.ParseQuery(query); err == nil {
			limit, _ = strconv.Atoi(q.Get("limit"))
		}
	}
	if limit <= 0 {
		return fmt.Errorf("a /usage/ page without its limit (%q): which of its polls are whole is unknown", params)
	}
	page, err := decodeUsage(body)
	if err != nil {
		return err
	}
	page = page[:whole(page, limit)]
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.days == nil {
		u.days = map[time.Time]*replayDay{}
	}
	for i := 0; i < len(page); {
		j := i
		for j < len(page) && page[j].poll.Equal(page[i].poll) {
			j++
		}
		poll := page[i].poll
		day := poll.Truncate(24 * time.Hour)
		d := u.days[day]
		if d == nil {
			d = &replayDay{polls: map[time.Time]bool{}}
			u.days[day] = d
		}
		if !d.polls[poll] {
			d.polls[poll] = true
			d.sums.add(page[i:j])
		}
		i = j
	}
	return nil
}

// writes are the days rolled up, each day's rows replacing what the
// warehouse holds for it; the replay starts over after them.
func (u *usageReplay) writes(owner store.Owner) []store.Write {
	u.mu.Lock()
	defer u.mu.Unlock()
	days := make([]time.Time, 0, len(u.days))
	for day := range u.days {
		days = append(days, day)
	}
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	var out []store.Write
	for _, day := range days {
		out = append(out, store.CloudSigmaUsages.Writes(owner,
			&store.Scope{Owner: owner, RangeColumn: "bucket_start", From: day, To: day.Add(24 * time.Hour)}, u.days[day].sums.rows()...))
	}
	u.days = nil
	return out
}
