-- Each resource-day's anomaly baseline, kept beside its cost. The anomalies
-- view looked up every resource-day's 14 days before it on each read: on
-- the 4x benchmark warehouse, a month of them took 170 ms of the
-- dashboard's page (270 ms once the page's statement had a generic plan),
-- against 200 ms for the whole page. The runs now work the baseline out
-- as they rewrite the days (store.RefreshDayCosts), and the days up to 14
-- after them whose baseline the rewrite changed; the view filters.
--
-- The columns are filled by the report file that points the view at them
-- (sql/reports/00063), for the reason 00009 gives.

-- +goose Up
ALTER TABLE billing.resource_day_costs
    ADD COLUMN baseline numeric,
    ADD COLUMN history_days integer;
COMMENT ON COLUMN billing.resource_day_costs.baseline IS
    'The mean billed_cost of the resource''s days with a cost among the 14 before this one; NULL when there are none.';
COMMENT ON COLUMN billing.resource_day_costs.history_days IS
    'How many of the 14 days before this one the resource had a cost on: the days baseline is the mean of.';

-- +goose Down
ALTER TABLE billing.resource_day_costs DROP COLUMN history_days, DROP COLUMN baseline;
