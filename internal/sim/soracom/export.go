package soracom

import (
	"crypto/hmac"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// exports keeps the export jobs and serves their files as the object
// storage Soracom's links point to does: a signed link that expires, no
// Soracom credentials, errors in XML.
type exports struct {
	cfg    Config
	model  *Model
	clock  *sim.Clock
	secret []byte

	mu        sync.Mutex
	jobs      map[string]*exportJob
	created   int
	downloads DownloadStats
}

// exportJob is one export: the view of the month it froze when it was
// asked for, and what the fault draw made of it.
type exportJob struct {
	id      string
	view    view
	created time.Time
	polls   int
	fate    sim.Class // FaultExportFailed, FaultExportStuck or ""
}

// DownloadStats counts what the storage host answered.
type DownloadStats struct {
	Requests int64            `json:"requests"`
	ByStatus map[string]int64 `json:"by_status"`
	Bytes    int64            `json:"bytes"`
}

func newExports(cfg Config, m *Model, clock *sim.Clock) *exports {
	return &exports{
		cfg: cfg, model: m, clock: clock,
		secret:    []byte("soracom-sim-storage-" + strconv.FormatUint(m.seed, 16)),
		jobs:      map[string]*exportJob{},
		downloads: DownloadStats{ByStatus: map[string]int64{}},
	}
}

func (e *exports) stats() DownloadStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.downloads
	d.ByStatus = maps.Clone(d.ByStatus)
	return d
}

func (e *exports) newJob(v view, fault sim.Class) *exportJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.created++
	j := &exportJob{
		id:   "fe_" + uuidOf(derive(e.secret, "export", strconv.Itoa(e.created))),
		view: v, created: e.clock.Now(),
	}
	if fault == FaultExportFailed || fault == FaultExportStuck {
		j.fate = fault
	}
	e.jobs[j.id] = j
	return j
}

// link is a job file's signed download URL, valid for LinkTTL, or already
// expired when the link_expired fault hit the request.
func (e *exports) link(r *sim.Request, j *exportJob) string {
	base := e.cfg.StorageURL
	if base == "" {
		base = "http://" + r.Host
	}
	expires := e.clock.Now().Add(e.cfg.LinkTTL)
	if r.Fault == FaultLinkExpired {
		expires = e.clock.Now().Add(-time.Second)
	}
	path := e.path(j.id)
	exp := strconv.FormatInt(expires.Unix(), 10)
	return fmt.Sprintf("%s%s?AWSAccessKeyId=AKIASORACOMSIMULATED&Expires=%s&Signature=%s",
		strings.TrimSuffix(base, "/"), path, exp, derive(e.secret, path, exp))
}

func (e *exports) path(id string) string {
	return StoragePrefix + e.model.OperatorID() + "/billing/" + id + ".csv"
}

// start answers an export request in its mode.
func (s *Sim) startExport(r *sim.Request, v view) (any, error) {
	mode := r.URL.Query().Get("export_mode")
	switch mode {
	case "", "sync":
		j := s.exports.newJob(v, "")
		return map[string]any{"url": s.exports.link(r, j)}, nil
	case "async":
		j := s.exports.newJob(v, r.Fault)
		return map[string]any{"exportedFileId": j.id, "exportedFilePath": "//files/exported/" + j.id}, nil
	}
	return nil, errorf(http.StatusBadRequest, CodeBadRequest, "export_mode must be async or sync, not %q.", mode)
}

func (s *Sim) exportMonth(r *sim.Request, mo Month) (any, error) {
	if s.Model.State(mo) != StateClosed {
		return nil, s.noBill(mo)
	}
	return s.startExport(r, s.Model.viewOf(mo))
}

func (s *Sim) exportLatest(r *sim.Request) (any, error) {
	return s.startExport(r, s.Model.viewOf(s.Model.CurrentMonth()))
}

// Export states, as GET /files/exported/{id} reports them.
const (
	ExportProcessing = "processing"
	ExportExported   = "exported"
	ExportFailed     = "failed"
)

// exportedFile answers a poll of an async export: processing for the
// first ExportPolls polls (and, if the job is stuck, until StuckFor has
// passed on the billing clock), then failed or exported with a fresh link.
func (s *Sim) exportedFile(r *sim.Request) (any, error) {
	id := r.PathValue("exported_file_id")
	e := s.exports
	e.mu.Lock()
	j, ok := e.jobs[id]
	if ok {
		j.polls++
	}
	e.mu.Unlock()
	if !ok {
		return nil, errorf(http.StatusNotFound, CodeNoFile, "No exported file %q.", id)
	}
	r.CountResource(id)
	switch {
	case j.polls <= s.cfg.ExportPolls,
		j.fate == FaultExportStuck && s.Clock.Now().Before(j.created.Add(s.cfg.StuckFor)):
		return map[string]any{"status": ExportProcessing}, nil
	case j.fate == FaultExportFailed:
		return map[string]any{"status": ExportFailed}, nil
	}
	return map[string]any{"status": ExportExported, "url": e.link(r, j)}, nil
}

// ServeHTTP is the storage host: GET of a signed link, nothing else.
func (e *exports) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, n := e.serve(w, r)
	e.mu.Lock()
	e.downloads.Requests++
	e.downloads.ByStatus[strconv.Itoa(status)]++
	e.downloads.Bytes += n
	e.mu.Unlock()
}

func (e *exports) serve(w http.ResponseWriter, r *http.Request) (int, int64) {
	if r.Method != http.MethodGet {
		return xmlError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.", "")
	}
	// The link is a bearer credential of its own; a client that sends its
	// Soracom key and token along leaks them to another host.
	for k := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-soracom-") {
			return xmlError(w, http.StatusBadRequest, "InvalidRequest", "Unexpected header "+k+": the download link needs no Soracom credentials.", "")
		}
	}
	q := r.URL.Query()
	exp := q.Get("Expires")
	if !hmac.Equal([]byte(q.Get("Signature")), []byte(derive(e.secret, r.URL.Path, exp))) {
		return xmlError(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", "")
	}
	expires, _ := strconv.ParseInt(exp, 10, 64)
	now := e.clock.Now()
	if now.Unix() >= expires {
		return xmlError(w, http.StatusForbidden, "AccessDenied", "Request has expired",
			"<Expires>"+time.Unix(expires, 0).UTC().Format(time.RFC3339)+"</Expires><ServerTime>"+now.Format(time.RFC3339)+"</ServerTime>")
	}
	id := strings.TrimSuffix(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], ".csv")
	e.mu.Lock()
	j, ok := e.jobs[id]
	e.mu.Unlock()
	if !ok || r.URL.Path != e.path(id) {
		return xmlError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", "")
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Content-Disposition", `attachment; filename="`+e.model.OperatorID()+"_"+j.view.month.String()+`.csv"`)
	cw := &countingWriter{w: w}
	e.model.writeCSV(cw, e.model.aggregate(j.view)) // a client gone mid-file is its own problem
	return http.StatusOK, cw.n
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// xmlError answers as S3 does.
func xmlError(w http.ResponseWriter, status int, code, message, extra string) (int, int64) {
	body := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + code + "</Code><Message>" +
		html.EscapeString(message) + "</Message>" + extra + "<RequestId>SIMULATED</RequestId></Error>"
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
	return status, int64(len(body))
}
