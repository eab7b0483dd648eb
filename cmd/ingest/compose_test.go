package main

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose builds docker-compose.yml's model for some profiles with the
// library docker compose itself uses (CI has no Docker daemon).
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"}, cli.WithProfiles(profiles),
		cli.WithName("billing-warehouse"), cli.WithResolvedPaths(false))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("profiles %v: %v", profiles, err)
	}
	return p
}

func serviceNames(p *types.Project) string {
	var names []string
	for name := range p.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// TestCompose checks the services each profile starts, that the demo does
// not start the real-API worker, that the workers have a health check the
// distroless image can run, and that no port clashes with a local
// PostgreSQL.
func TestCompose(t *testing.T) {
	for _, c := range []struct {
		profiles []string
		want     string
	}{
		{nil, "db migrate"},
		{[]string{"prod"}, "db migrate serve"},
		{[]string{"run"}, "db ingest migrate"},
		{[]string{"demo"}, "db hyperstack-sim migrate serve-demo"},
		{[]string{"bi"}, "db grafana grafana-reader migrate"},
	} {
		p := loadCompose(t, c.profiles...)
		if got := serviceNames(p); got != c.want {
			t.Errorf("profiles %v start %q, want %q", c.profiles, got, c.want)
		}
		for name, s := range p.Services {
			for _, port := range s.Ports {
				if port.Published == "5432" {
					t.Errorf("%s publishes 5432, which clashes with a local PostgreSQL", name)
				}
				if port.HostIP != "127.0.0.1" {
					t.Errorf("%s publishes %s on %q, not loopback", name, port.Published, port.HostIP)
				}
			}
			if strings.HasPrefix(name, "serve") {
				hc := s.HealthCheck
				if hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/usr/local/bin/ingest", "healthcheck"}) {
					t.Errorf("%s: health check %v, want the image's own ingest healthcheck", name, hc)
				}
				if !slices.Equal(s.Command, []string{"serve", "--run-at-start"}) || s.Restart != "unless-stopped" {
					t.Errorf("%s: command %v, restart %q", name, s.Command, s.Restart)
				}
			}
		}
	}
	demo := loadCompose(t, "demo")
	if key := demo.Services["serve-demo"].Environment["HYPERSTACK_API_KEY"]; key == nil || *key != "demo-key" {
		t.Errorf("the demo worker's key is %v", key)
	}
	if demo.Services["serve-demo"].NetworkMode != "service:hyperstack-sim" {
		t.Errorf("the demo worker does not share the simulator's loopback")
	}
}
