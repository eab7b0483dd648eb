-- Soracom's monthly rows (fees, free tier, discounts, adjustments) by
-- month: the day costs spread each month's monthly rows over its days
-- (reports.resource_day_cost_computed_v2), and found them by reading every
-- row of the account, 99% of them daily. On a 10,000-SIM account that was
-- a second of every month's refresh at six months of history, and grew
-- with it. Monthly rows are about one in a hundred, so the index is small.

-- +goose Up
CREATE INDEX soracom_bill_items_monthly_idx ON billing.soracom_bill_items (provider, account, billing_month) WHERE monthly;

-- +goose Down
DROP INDEX billing.soracom_bill_items_monthly_idx;
