-- Soracom: the second source. Its bills, daily totals and the detailed
-- billing CSV (one row per key, duplicates summed), the cost summaries and
-- the coupons. SIMs, VPGs and devices are rows of billing.resources.
--
-- Soracom publishes a month twice: preliminary while it runs (and for the
-- business days until it closes), then closed, final. A preliminary figure
-- that grows is accrual, not a correction; a closed figure that changes is
-- one. So each money table carries the figure twice: amount, always the
-- latest, and final_amount, NULL until the month closed. Only final_amount
-- is tracked by the writer: the restatement history records a change to a
-- closed month and nothing else. (Soracom books late adjustments as rows of
-- the month they are issued in, "Adjustment for yyyyMM": corrects_month.)

-- +goose Up

CREATE TABLE billing.soracom_bills (
    provider                text COLLATE "C" NOT NULL,
    account                 text COLLATE "C" NOT NULL,
    billing_month           date    NOT NULL,
    amount                  numeric NOT NULL,
    applied_coupon_amount   numeric,
    currency                text,
    state                   text,
    payment_status          text,
    payment_transaction_id  text,
    last_evaluated_at       timestamptz,
    final_amount            numeric,
    PRIMARY KEY (provider, account, billing_month),
    CONSTRAINT soracom_bills_month_check CHECK (billing_month = date_trunc('month', billing_month)),
    CONSTRAINT soracom_bills_state_check CHECK (state IN ('temporary', 'closed'))
);
COMMENT ON TABLE billing.soracom_bills IS 'Soracom: one bill per month (JST months in Japan coverage): amount with tax after coupons, state temporary or closed, payment.';

CREATE TABLE billing.soracom_daily_bills (
    provider       text COLLATE "C" NOT NULL,
    account        text COLLATE "C" NOT NULL,
    billing_month  date    NOT NULL,
    day            date    NOT NULL,
    amount         numeric NOT NULL,
    currency       text,
    final_amount   numeric,
    PRIMARY KEY (provider, account, billing_month, day)
);
COMMENT ON TABLE billing.soracom_daily_bills IS 'Soracom: the daily totals of a month (before tax, monthly fees excluded).';

CREATE TABLE billing.soracom_bill_items (
    provider        text COLLATE "C" NOT NULL,
    account         text COLLATE "C" NOT NULL,
    billing_month   date    NOT NULL,
    charge_date     date    NOT NULL,
    monthly         boolean NOT NULL,
    family          text COLLATE "C" NOT NULL,
    resource_id     text COLLATE "C" NOT NULL,
    bill_item_name  text COLLATE "C" NOT NULL,
    imsi            text,
    unit_price      numeric,
    quantity        numeric NOT NULL,
    amount          numeric NOT NULL,
    final_amount    numeric,
    tags            jsonb,
    sim_group       text,
    corrects_month  date,
    PRIMARY KEY (provider, account, billing_month, charge_date, family, resource_id, bill_item_name, monthly)
);
CREATE INDEX soracom_bill_items_resource_idx ON billing.soracom_bill_items (provider, account, family, resource_id);
COMMENT ON TABLE billing.soracom_bill_items IS 'Soracom: the detailed billing CSV, one row per month, date, resource and bill item, repeated rows summed. Monthly rows (fees, free tier, discounts, adjustments) have monthly = true and the month''s first day as charge_date; rows of the account itself have family account and resource_id ''''.';

CREATE TABLE billing.soracom_summaries (
    provider       text COLLATE "C" NOT NULL,
    account        text COLLATE "C" NOT NULL,
    billing_month  date    NOT NULL,
    breakdown      text COLLATE "C" NOT NULL,
    item           text COLLATE "C" NOT NULL,
    category       text,
    amount         numeric NOT NULL,
    currency       text,
    updated_at     timestamptz,
    PRIMARY KEY (provider, account, billing_month, breakdown, item),
    CONSTRAINT soracom_summaries_breakdown_check CHECK (breakdown IN ('bill_item', 'sim'))
);
COMMENT ON TABLE billing.soracom_summaries IS 'Soracom: the cost summaries of the last four months, by bill item and by SIM (the 100 largest), before tax.';

CREATE TABLE billing.soracom_coupons (
    provider       text COLLATE "C" NOT NULL,
    account        text COLLATE "C" NOT NULL,
    coupon_code    text COLLATE "C" NOT NULL,
    amount         numeric,
    balance        numeric,
    expiry_month   date,
    PRIMARY KEY (provider, account, coupon_code)
);
COMMENT ON TABLE billing.soracom_coupons IS 'Soracom: the coupons and their balances, as last seen.';

-- +goose Down
DROP TABLE billing.soracom_coupons;
DROP TABLE billing.soracom_summaries;
DROP TABLE billing.soracom_bill_items;
DROP TABLE billing.soracom_daily_bills;
DROP TABLE billing.soracom_bills;
