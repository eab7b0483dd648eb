-- CloudSigma: the tables of its source (ingest/cloudsigma). The ledger is
-- kept entry by entry, with its balance chain, so completeness can be
-- proved again in SQL; usage is kept rolled up (the five-minute samples
-- stay in the raw payloads). Balances go to billing.credit_observations
-- (credit = balance, threshold = credit limit), like every source's.

-- +goose Up

-- Every ledger entry: a debit (amount > 0) or credit (amount < 0) of the
-- account's prepaid balance, with the balance before (initial) and after
-- (end_balance = initial - amount). kind and resource are parsed from the
-- reason; reference is the subscription's uuid, the payment's uuid or the
-- promotion's code.
CREATE TABLE billing.cloudsigma_ledger_entries (
    provider          text COLLATE "C" NOT NULL,
    account           text COLLATE "C" NOT NULL,
    entry_id          text COLLATE "C" NOT NULL,
    time              timestamptz NOT NULL,
    poll_time         timestamptz,
    amount            numeric     NOT NULL,
    initial_balance   numeric     NOT NULL,
    end_balance       numeric     NOT NULL,
    currency          text,
    kind              text COLLATE "C" NOT NULL,
    resource          text COLLATE "C",
    resource_amount   numeric,
    billing_cycle     bigint,
    interval_seconds  integer,
    reference         text,
    reason            text        NOT NULL,
    PRIMARY KEY (provider, account, entry_id),
    CONSTRAINT cloudsigma_ledger_entries_kind_check
        CHECK (kind IN ('burst', 'subscription', 'licence', 'payment', 'refund', 'promotion', 'other'))
);
CREATE INDEX cloudsigma_ledger_entries_time_idx ON billing.cloudsigma_ledger_entries (provider, account, time);
COMMENT ON TABLE billing.cloudsigma_ledger_entries IS 'CloudSigma ledger entries with their balance chain; kind and resource parsed from reason.';

-- /usage/ samples summed per resource and hour (bucket_seconds 3600) or UTC
-- day (86400), by poll time: unit_samples is the sum of the samples'
-- amounts (MHz, bytes, IPs, cores), samples how many there were, objects
-- how many servers, drives or IPs they came from.
CREATE TABLE billing.cloudsigma_usage (
    provider        text COLLATE "C" NOT NULL,
    account         text COLLATE "C" NOT NULL,
    resource        text COLLATE "C" NOT NULL,
    bucket_seconds  integer     NOT NULL,
    bucket_start    timestamptz NOT NULL,
    unit_samples    numeric     NOT NULL,
    samples         integer     NOT NULL,
    objects         integer     NOT NULL,
    PRIMARY KEY (provider, account, resource, bucket_seconds, bucket_start),
    CONSTRAINT cloudsigma_usage_bucket_check CHECK (bucket_seconds IN (3600, 86400))
);
CREATE INDEX cloudsigma_usage_bucket_idx ON billing.cloudsigma_usage (provider, account, bucket_start);
COMMENT ON TABLE billing.cloudsigma_usage IS 'CloudSigma /usage/ samples rolled up per resource and hour or day.';

-- Subscriptions: commitments bought for a period; their purchase is also a
-- ledger debit. A view amortizes price over [start_time, end_time).
CREATE TABLE billing.cloudsigma_subscriptions (
    provider          text COLLATE "C" NOT NULL,
    account           text COLLATE "C" NOT NULL,
    subscription_id   text COLLATE "C" NOT NULL,
    uuid              text,
    resource          text COLLATE "C" NOT NULL,
    amount            numeric     NOT NULL,
    price             numeric     NOT NULL,
    currency          text,
    period            text,
    start_time        timestamptz NOT NULL,
    end_time          timestamptz NOT NULL,
    status            text,
    auto_renew        boolean,
    free_tier         boolean,
    discount_amount   numeric,
    discount_percent  numeric,
    PRIMARY KEY (provider, account, subscription_id)
);
COMMENT ON TABLE billing.cloudsigma_subscriptions IS 'CloudSigma subscriptions: resource, amount, price and period, to amortize.';

-- The price list: every resource, currency and burst level (0 is the
-- subscription price). A change of price is a restatement.
CREATE TABLE billing.cloudsigma_prices (
    provider    text COLLATE "C" NOT NULL,
    account     text COLLATE "C" NOT NULL,
    resource    text COLLATE "C" NOT NULL,
    currency    text COLLATE "C" NOT NULL,
    level       integer     NOT NULL,
    price       numeric     NOT NULL,
    unit        text,
    multiplier  numeric,
    PRIMARY KEY (provider, account, resource, currency, level)
);

-- Burst levels as observed: the level of a resource for the five-minute
-- billing cycle starting at cycle_start (/pricing/'s current and next).
CREATE TABLE billing.cloudsigma_burst_levels (
    provider     text COLLATE "C" NOT NULL,
    account      text COLLATE "C" NOT NULL,
    resource     text COLLATE "C" NOT NULL,
    cycle_start  timestamptz NOT NULL,
    level        integer     NOT NULL,
    PRIMARY KEY (provider, account, resource, cycle_start)
);

-- Subscription discounts per period ("1 year": 0.25).
CREATE TABLE billing.cloudsigma_discounts (
    provider  text COLLATE "C" NOT NULL,
    account   text COLLATE "C" NOT NULL,
    period    text COLLATE "C" NOT NULL,
    value     numeric NOT NULL,
    PRIMARY KEY (provider, account, period)
);

-- The licences the cloud bills for.
CREATE TABLE billing.cloudsigma_licences (
    provider     text COLLATE "C" NOT NULL,
    account      text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL,
    long_name    text,
    type         text,
    user_metric  text,
    burstable    boolean,
    PRIMARY KEY (provider, account, name)
);

-- +goose Down

DROP TABLE billing.cloudsigma_licences;
DROP TABLE billing.cloudsigma_discounts;
DROP TABLE billing.cloudsigma_burst_levels;
DROP TABLE billing.cloudsigma_prices;
DROP TABLE billing.cloudsigma_subscriptions;
DROP TABLE billing.cloudsigma_usage;
DROP TABLE billing.cloudsigma_ledger_entries;
