package cloudsigma

import (
	"fmt"
	"time"
)

// Server is one server of the account with its drives and IP. Its CPU, RAM
// and licence are billed while it runs; its drives and IP while it exists.
type Server struct {
	UUID    string
	Name    string
	Created int64 // unix seconds
	Deleted int64 // unix seconds; 0 while it exists
	CPU     int64 // MHz
	Mem     int64 // bytes
	SMP     int64 // cores, what the Windows licence counts
	CPURes  int   // resource id of its CPU ("cpu", "intel_cpu", "amd_cpu")
	MemRes  int   // and of its RAM
	Drives  []Drive
	IP      string // "" when it has none
	Windows bool   // carries msft_p73_04837_core, one per core
	// Office servers run on weekdays from 07:00+OnAt to 19:00+OffAt UTC
	// (seconds), so they start and stop inside billing cycles; the others
	// run whenever they exist.
	Office      bool
	OnAt, OffAt int64
}

// Drive is one dssd drive of a server.
type Drive struct {
	UUID string
	Size int64 // bytes
}

func (s *Server) exists(t int64) bool { return t >= s.Created && (s.Deleted == 0 || t < s.Deleted) }

// seconds returns for how many seconds of the cycle starting at cs the
// server existed and ran.
func (s *Server) seconds(cs int64) (exist, run int64) {
	ce := cs + cycleSecs
	lo, hi := max(cs, s.Created), ce
	if s.Deleted != 0 {
		hi = min(hi, s.Deleted)
	}
	if hi <= lo {
		return 0, 0
	}
	exist = hi - lo
	if !s.Office {
		return exist, exist
	}
	// A cycle touches at most two days; the office window never spans midnight.
	for day := cs / 86400; day <= (ce-1)/86400; day++ {
		if wd := (day + 4) % 7; wd == 0 || wd == 6 { // 1970-01-01 was a Thursday
			continue
		}
		on, off := day*86400+7*3600+s.OnAt, day*86400+19*3600+s.OffAt
		if a, b := max(lo, on), min(hi, off); b > a {
			run += b - a
		}
	}
	return exist, run
}

// use is one object's use of one resource in a cycle: what /usage/ lists.
type use struct {
	resource int
	uuid     string
	amount   int64
	secs     int64
}

// uses appends the server's uses of the cycle starting at cs, in the order
// /usage/ lists them.
func (s *Server) uses(cs int64, out []use) []use {
	exist, run := s.seconds(cs)
	if run > 0 {
		out = append(out, use{s.CPURes, s.UUID, s.CPU, run}, use{s.MemRes, s.UUID, s.Mem, run})
		if s.Windows {
			out = append(out, use{resWindows, s.UUID, s.SMP, run})
		}
	}
	if exist > 0 {
		for _, d := range s.Drives {
			out = append(out, use{resDSSD, d.UUID, d.Size, exist})
		}
		if s.IP != "" {
			out = append(out, use{resIP, s.IP, 1, exist})
		}
	}
	return out
}

// newServer draws server i of the account.
func (m *Model) newServer(i int, created, deleted int64) *Server {
	h := func(what uint64) uint64 { return mix(m.seed, saltServer, uint64(i), what) }
	s := &Server{
		UUID:    uuidFrom(m.seed, saltServer, uint64(i)),
		Name:    fmt.Sprintf("srv-%03d", i+1),
		Created: created,
		Deleted: deleted,
		CPU:     []int64{1000, 2000, 4000, 8000, 12000}[h(1)%5],
		Mem:     []int64{1, 2, 4, 8, 16}[h(2)%5] * gib,
	}
	s.SMP = max(1, s.CPU/2000)
	switch h(3) % 10 {
	case 0, 1, 2:
		s.CPURes, s.MemRes = resIntelCPU, resIntelMem
	case 3, 4:
		s.CPURes, s.MemRes = resAMDCPU, resAMDMem
	default:
		s.CPURes, s.MemRes = resCPU, resMem
	}
	for d := range 1 + int(h(4)%2) {
		s.Drives = append(s.Drives, Drive{
			UUID: uuidFrom(m.seed, saltDrive, uint64(i), uint64(d)),
			Size: []int64{10, 20, 50, 100}[mix(m.seed, saltDrive, uint64(i), uint64(d))%4] * gib,
		})
	}
	if h(5)%4 != 0 {
		s.IP = fmt.Sprintf("185.%d.%d.%d", 12+h(6)%4, h(7)%256, 1+h(8)%254)
	}
	s.Windows = h(9)%10 < 3
	s.Office = h(10)%10 < 4
	s.OnAt, s.OffAt = int64(h(11)%3600), int64(h(12)%3600)
	return s
}

// generate draws the account: servers, the subscriptions bought when the
// history starts, and the payment that opens it.
func (m *Model) generate(now time.Time) {
	start, span := m.start.Unix(), max(1, now.Unix()-m.start.Unix())
	for i := range max(0, m.cfg.Servers) {
		h := func(what uint64) uint64 { return mix(m.seed, saltServer, uint64(i), 100+what) }
		created := start - 86400 // most exist before the history starts
		if h(1)%10 < 3 {
			created = start + int64(h(2)%uint64(span*8/10+1))
		}
		var deleted int64
		if h(3)%10 == 0 {
			deleted = created + 3600 + int64(h(4)%uint64(max(1, start+span-created)))
		}
		m.servers = append(m.servers, m.newServer(i, created, deleted))
	}
	m.generateSubscriptions()
}

// Servers returns the account's servers, deleted ones included.
func (m *Model) Servers() []Server {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Server, len(m.servers))
	for i, s := range m.servers {
		out[i] = *s
	}
	return out
}

// AddServers adds n servers that exist and run from the next billing cycle
// on; it returns their UUIDs.
func (m *Model) AddServers(n int) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	from := cycleStartUnix(m.effectiveCycle(m.nowLocked()))
	var ids []string
	for range n {
		s := m.newServer(len(m.servers), from, 0)
		s.Office = false
		m.servers = append(m.servers, s)
		ids = append(ids, s.UUID)
	}
	return ids
}

// RemoveServer deletes a server, with its drives and IP, from the next
// billing cycle on.
func (m *Model) RemoveServer(uuid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	at := cycleStartUnix(m.effectiveCycle(m.nowLocked()))
	for _, s := range m.servers {
		if s.UUID == uuid && s.exists(at) {
			s.Deleted = max(at, s.Created)
			return nil
		}
	}
	return fmt.Errorf("server %s: %w", uuid, ErrNotFound)
}
