package dashboard

import (
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkRender draws a full page from data in memory: 60 days of 11
// services, 15 top resources, a credit history of 60 days: what the page
// costs beyond reading the views.
func BenchmarkRender(b *testing.B) {
	until := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	d := &Data{Month: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: until,
		MTD: []MonthToDate{{Provider: "hyperstack", Account: "default", Currency: "USD", Month: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			BilledToDate: MoneyOf("51225.33"), DaysElapsed: 22.5, MonthDays: 30, Forecast: MoneyOf("68300.44"), PreviousSamePeriod: MoneyOf("29914.33"), PreviousTotal: MoneyOf("43350.73")}}}
	daily := Daily{Currency: "USD"}
	for day := range Days {
		for s := range 11 {
			v := MoneyOf(fmt.Sprint(100 + s*day))
			daily.Rows = append(daily.Rows, DailyRow{Day: until.AddDate(0, 0, -day), Service: fmt.Sprintf("service-%d", s), Billed: v, Amortized: v})
		}
	}
	d.Daily = []Daily{daily}
	top := Top{Currency: "USD", Resources: 3765, Total: MoneyOf("51225.33")}
	for i := range TopN {
		top.Rows = append(top.Rows, TopRow{Rank: i + 1, Account: "default", Family: "virtual-machine", ResourceID: fmt.Sprint(i), Billed: MoneyOf(fmt.Sprint(1000 - i))})
	}
	d.Top = []Top{top}
	runway := Runway{Provider: "hyperstack", Account: "default", Currency: "USD", ObservedAt: until, Credit: MoneyOf("30206.36")}
	for h := range 60 * 24 {
		runway.History = append(runway.History, CreditPoint{At: until.Add(-time.Duration(h) * time.Hour), Credit: MoneyOf(fmt.Sprint(30000 + h))})
	}
	d.Runway = []Runway{runway}
	for b.Loop() {
		if err := Render(io.Discard, d, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
