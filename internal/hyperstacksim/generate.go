package hyperstacksim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Scales are the preset organisation sizes: resources per family.
var Scales = map[string]map[Family]int{
	"small": {
		FamilyVM: 12, FamilyVolume: 10, FamilySnapshot: 6, FamilyBucket: 3, FamilyCluster: 2, FamilyContract: 2,
		FamilyFineTuning: 3, FamilyServerless: 3, FamilyModelEval: 2, FamilyDataSynth: 2, FamilyImageGen: 2,
	},
	"medium": {
		FamilyVM: 60, FamilyVolume: 50, FamilySnapshot: 30, FamilyBucket: 12, FamilyCluster: 6, FamilyContract: 4,
		FamilyFineTuning: 12, FamilyServerless: 10, FamilyModelEval: 8, FamilyDataSynth: 6, FamilyImageGen: 6,
	},
	"large": {
		FamilyVM: 1500, FamilyVolume: 1200, FamilySnapshot: 600, FamilyBucket: 150, FamilyCluster: 40, FamilyContract: 15,
		FamilyFineTuning: 100, FamilyServerless: 60, FamilyModelEval: 40, FamilyDataSynth: 30, FamilyImageGen: 30,
	},
}

// perMin converts a price in micro-dollars per hour to Nano per minute. The
// price tables below are chosen so the division is exact.
func perMin(microPerHour int64) Nano {
	if microPerHour*1000%60 != 0 {
		panic(fmt.Sprintf("price %d µ$/h is not a whole number of n$ per minute", microPerHour))
	}
	return Nano(microPerHour * 1000 / 60)
}

// flavor is a VM size with its list price per hour, in µ$, per sub-resource.
type flavor struct {
	name                                 string
	gpu, cpu, ram, disk, ephemeral, ipv4 int64
}

var flavors = []flavor{
	{"n3-RTX-A6000x1", 480_000, 36_000, 24_000, 7_200, 4_800, 4_200},
	{"n3-A100x1", 1_320_000, 48_000, 36_000, 7_200, 9_600, 4_200},
	{"n3-H100x1", 1_920_000, 60_000, 48_000, 7_200, 12_000, 4_200},
	{"n3-H100x8", 15_360_000, 480_000, 384_000, 28_800, 96_000, 4_200},
	{"n1-cpu-medium", 0, 72_000, 48_000, 7_200, 0, 4_200},
}

func (f flavor) components() []Component {
	prices := []int64{f.gpu, f.cpu, f.ram, f.disk, f.ephemeral, f.ipv4}
	out := make([]Component, len(prices))
	for i, p := range prices {
		out[i] = Component{Kind: SubResourceKinds[i], ListPerMin: perMin(p)}
	}
	return out
}

type tokenModel struct {
	base, display string
	in, out       Nano // list price per token
	inPH, outPH   int64
}

var tokenModels = map[Family][]tokenModel{
	FamilyServerless: {
		{"meta-llama/Llama-3.3-70B-Instruct", "Llama 3.3 70B Instruct", 200, 600, 200_000, 50_000},
		{"mistralai/Mistral-Small-24B-Instruct", "Mistral Small 24B", 100, 300, 300_000, 80_000},
	},
	FamilyModelEval: {
		{"meta-llama/Llama-3.1-8B-Instruct", "Llama 3.1 8B Instruct", 100, 300, 500_000, 100_000},
	},
	FamilyDataSynth: {
		{"Qwen/Qwen2.5-72B-Instruct", "Qwen 2.5 72B Instruct", 150, 450, 300_000, 800_000},
	},
	FamilyImageGen: {
		{"HiDream-ai/HiDream-I1-Fast", "HiDream-I1-Fast", 0, 3, 0, 4_000},
	},
}

var environments = []string{"default-CANADA-1", "default-NORWAY-1", "staging-US-1"}

var nameWords = map[Family][]string{
	FamilyVM:         {"train", "jupyter", "llm-serve", "render", "batch", "dev"},
	FamilyVolume:     {"data", "datasets", "checkpoints", "scratch"},
	FamilySnapshot:   {"nightly", "pre-upgrade", "golden"},
	FamilyBucket:     {"artifacts", "logs", "models"},
	FamilyCluster:    {"k8s-prod", "k8s-research"},
	FamilyContract:   {"Reserved"},
	FamilyFineTuning: {"ft-llama", "ft-mistral", "ft-qwen"},
	FamilyServerless: {"endpoint"},
	FamilyModelEval:  {"eval-run"},
	FamilyDataSynth:  {"synth-job"},
	FamilyImageGen:   {"Inference Request"},
}

// generator builds a model's resources from its seed.
type generator struct {
	rng    *rand.Rand
	m      *Model
	start  time.Time
	now    time.Time
	active float64
}

// minuteBetween draws a whole minute in [a, b).
func (g *generator) minuteBetween(a, b time.Time) time.Time {
	n := int64(b.Sub(a) / time.Minute)
	if n <= 0 {
		return a
	}
	return a.Add(time.Duration(g.rng.Int64N(n)) * time.Minute)
}

func (g *generator) lifetime(r *Resource, minLife, maxLife time.Duration) {
	r.Created = g.minuteBetween(g.start.Add(-20*24*time.Hour), g.now.Add(-2*time.Hour))
	if g.rng.Float64() < g.active {
		return // still running
	}
	life := minLife + time.Duration(g.rng.Int64N(int64(maxLife-minLife)))
	r.Terminated = r.Created.Add(life).Truncate(time.Minute)
	if !r.Terminated.Before(g.now) {
		r.Terminated = g.minuteBetween(r.Created.Add(time.Hour), g.now)
	}
}

// timeline gives a resource state changes every few hours to days.
func (g *generator) timeline(r *Resource, states []string, weights []int, minGap, maxGap time.Duration) {
	end := g.now
	if !r.Terminated.IsZero() {
		end = r.Terminated
	}
	r.States = []StateChange{{At: r.Created, State: states[0]}}
	for t := r.Created; ; {
		t = t.Add(minGap + time.Duration(g.rng.Int64N(int64(maxGap-minGap)))).Truncate(time.Minute)
		if !t.Before(end) {
			return
		}
		cur := r.States[len(r.States)-1].State
		next := cur
		for next == cur {
			next = states[weighted(g.rng, weights)]
		}
		r.States = append(r.States, StateChange{At: t, State: next})
	}
}

func weighted(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := rng.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (g *generator) resource(f Family, contracts []*Resource) *Resource {
	r := &Resource{Family: f, Environment: environments[g.rng.IntN(len(environments))]}
	words := nameWords[f]
	r.Name = fmt.Sprintf("%s-%d", words[g.rng.IntN(len(words))], 1+g.rng.IntN(999))
	switch f {
	case FamilyVM:
		g.lifetime(r, 2*time.Hour, 40*24*time.Hour)
		fl := flavors[g.rng.IntN(len(flavors))]
		r.Components = fl.components()
		r.DiscountPct = []int64{0, 0, 0, 10, 20, 25}[g.rng.IntN(6)]
		if len(contracts) > 0 && g.rng.IntN(10) == 0 {
			r.ContractID = contracts[g.rng.IntN(len(contracts))].ID
			r.DiscountPct = 30
		}
		g.timeline(r, []string{StateActive, StateShutoff, StateHibernated}, []int{7, 2, 1}, 6*time.Hour, 5*24*time.Hour)
	case FamilyVolume:
		g.lifetime(r, 6*time.Hour, 60*24*time.Hour)
		r.SubresourceType = "Cloud-SSD"
		r.SubresourceAmount = int64(50 * (1 + g.rng.IntN(40)))
		r.Components = []Component{{Kind: "base", ListPerMin: perMin(120 * r.SubresourceAmount)}}
		g.timeline(r, []string{StateInUse, StateAvailable}, []int{1, 1}, 12*time.Hour, 7*24*time.Hour)
	case FamilySnapshot:
		g.lifetime(r, 24*time.Hour, 60*24*time.Hour)
		r.SubresourceType = "Cloud-SSD"
		r.SubresourceAmount = int64(50 * (1 + g.rng.IntN(20)))
		r.Components = []Component{{Kind: "base", ListPerMin: perMin(60 * r.SubresourceAmount)}}
	case FamilyBucket:
		g.lifetime(r, 7*24*time.Hour, 90*24*time.Hour)
		r.SubresourceAmount = int64(10 * (1 + g.rng.IntN(500)))
		r.Components = []Component{{Kind: "base", ListPerMin: perMin(24 * r.SubresourceAmount)}}
	case FamilyCluster:
		g.lifetime(r, 24*time.Hour, 60*24*time.Hour)
		r.DiscountPct = []int64{0, 10}[g.rng.IntN(2)]
		for range 2 + g.rng.IntN(3) {
			fl := flavors[g.rng.IntN(len(flavors)-1)]
			node := Component{Kind: "node", ID: g.m.newID(g.rng), ListPerMin: perMin(fl.gpu + fl.cpu + fl.ram + fl.disk + fl.ephemeral + fl.ipv4)}
			node.Name = fmt.Sprintf("%s-worker-%d", r.Name, len(r.Components)+1)
			r.Components = append(r.Components, node)
		}
	case FamilyContract:
		r.Created = g.minuteBetween(g.start.Add(-60*24*time.Hour), g.now.Add(-24*time.Hour)).Truncate(24 * time.Hour)
		r.Terminated = r.Created.Add(time.Duration(90+90*g.rng.IntN(2)) * 24 * time.Hour)
		gpus := int64(1 + g.rng.IntN(8))
		r.GPUType = []string{"H100-80G-PCIe", "A100-80G-PCIe", "RTX-A6000"}[g.rng.IntN(3)]
		r.Name = fmt.Sprintf("Reserved %dx %s", gpus, r.GPUType)
		r.Components = []Component{{Kind: "gpu", ListPerMin: perMin(1_380_000 * gpus)}}
	case FamilyFineTuning:
		g.lifetime(r, 2*time.Hour, 3*24*time.Hour)
		r.Components = []Component{{Kind: "gpu", ListPerMin: perMin(1_920_000)}}
		tm := tokenModels[FamilyModelEval][0]
		r.BaseModel, r.BaseModelDisplay = tm.base, tm.display
		r.LoraAdapter = r.Name + "-lora"
	default: // token-billed services
		g.lifetime(r, 6*time.Hour, 30*24*time.Hour)
		tm := tokenModels[f][g.rng.IntN(len(tokenModels[f]))]
		r.BaseModel, r.BaseModelDisplay = tm.base, tm.display
		r.InPrice, r.OutPrice = tm.in, tm.out
		r.InTokensPerHour, r.OutTokensPerHour = tm.inPH, tm.outPH
		if f == FamilyServerless && g.rng.IntN(3) == 0 {
			r.LoraAdapter = "acme/support-bot-lora"
		}
		if f == FamilyImageGen {
			r.Name = fmt.Sprintf("Inference Request %d", 100000+g.rng.IntN(900000))
		}
	}
	return r
}

// generate fills the model with counts[f] resources of each family.
func (g *generator) generate(counts map[Family]int) {
	// Contracts first: VMs refer to them.
	var contracts []*Resource
	for range counts[FamilyContract] {
		contracts = append(contracts, g.resource(FamilyContract, nil))
	}
	for _, c := range contracts {
		c.ID = g.m.newID(g.rng)
	}
	var rs []*Resource
	for _, f := range Families {
		if f == FamilyContract {
			continue
		}
		for range counts[f] {
			rs = append(rs, g.resource(f, contracts))
		}
	}
	// Ids grow with creation time, as the live API's do.
	slices.SortStableFunc(rs, func(a, b *Resource) int { return a.Created.Compare(b.Created) })
	for _, r := range rs {
		r.ID = g.m.newID(g.rng)
	}
	for _, r := range append(contracts, rs...) {
		r.UUID = uuid(g.rng)
		g.m.add(r)
	}
}

func uuid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xfff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}
