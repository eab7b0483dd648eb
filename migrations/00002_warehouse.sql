-- The normalized warehouse, the restatement history, and the crawler's
-- bookkeeping. Every billing table has a provider column and a natural key;
-- money is numeric (exact), times are timestamptz (UTC). Identifier columns
-- of keys compare bytewise (COLLATE "C"): they are ids, not prose, and the
-- bulk writer sorts and indexes millions of them.

-- +goose Up

-- One row per billed thing: VMs, volumes, snapshots, buckets, clusters,
-- contracts, fine-tuning jobs and the token-billed AI services.
CREATE TABLE billing.resources (
    provider       text COLLATE "C" NOT NULL,
    family         text COLLATE "C" NOT NULL,
    resource_id    text COLLATE "C" NOT NULL,
    name           text,
    status         text,
    contract_id    text,
    base_model     text,
    lora_adapter   text,
    created_at     timestamptz,
    terminated_at  timestamptz,
    attributes     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (provider, family, resource_id)
);
COMMENT ON TABLE billing.resources IS 'Every billed resource, its latest known name, status and attributes.';

-- What a resource cost in one billing month, as the API summarises it.
CREATE TABLE billing.resource_month_costs (
    provider                       text COLLATE "C" NOT NULL,
    family                         text COLLATE "C" NOT NULL,
    resource_id                    text COLLATE "C" NOT NULL,
    billing_month                  date    NOT NULL,
    status                         text,
    incurred_bill                  numeric NOT NULL,
    non_discounted_bill            numeric,
    price_per_hour                 numeric,
    non_discounted_price_per_hour  numeric,
    usage_seconds                  numeric,
    usage_active_seconds           numeric,
    usage_shutoff_seconds          numeric,
    usage_hibernated_seconds       numeric,
    input_tokens                   numeric,
    output_tokens                  numeric,
    input_tokens_bill              numeric,
    output_tokens_bill             numeric,
    input_tokens_non_discounted_bill  numeric,
    output_tokens_non_discounted_bill numeric,
    PRIMARY KEY (provider, family, resource_id, billing_month),
    CONSTRAINT resource_month_costs_month_check CHECK (billing_month = date_trunc('month', billing_month))
);
CREATE INDEX resource_month_costs_month_idx ON billing.resource_month_costs (billing_month, family);
COMMENT ON TABLE billing.resource_month_costs IS 'Per resource and billing month: bills, prices, usage time (seconds, split by VM state) and tokens.';

-- Cost per resource per graph bucket. Hourly and daily buckets coexist:
-- bucket_seconds says which a row is.
CREATE TABLE billing.cost_datapoints (
    provider        text COLLATE "C" NOT NULL,
    family          text COLLATE "C" NOT NULL,
    resource_id     text COLLATE "C" NOT NULL,
    bucket_start    timestamptz NOT NULL,
    bucket_seconds  integer     NOT NULL,
    incurred_bill   numeric,
    input_tokens    numeric,
    output_tokens   numeric,
    total_tokens    numeric,
    PRIMARY KEY (provider, family, resource_id, bucket_seconds, bucket_start),
    CONSTRAINT cost_datapoints_bucket_check CHECK (bucket_seconds > 0)
);
CREATE INDEX cost_datapoints_bucket_idx ON billing.cost_datapoints (bucket_start, bucket_seconds);
COMMENT ON TABLE billing.cost_datapoints IS 'Graph datapoints: cost (and tokens) per resource per bucket of bucket_seconds.';

-- What each part of a VM (gpu, cpu, ram, disk, ephemeral, publicip) cost in a month.
CREATE TABLE billing.vm_subresource_costs (
    provider             text COLLATE "C" NOT NULL,
    vm_id                text COLLATE "C" NOT NULL,
    billing_month        date    NOT NULL,
    subresource          text COLLATE "C" NOT NULL,
    incurred_bill        numeric NOT NULL,
    non_discounted_bill  numeric,
    PRIMARY KEY (provider, vm_id, billing_month, subresource)
);
CREATE INDEX vm_subresource_costs_month_idx ON billing.vm_subresource_costs (billing_month);

CREATE TABLE billing.vm_subresource_datapoints (
    provider        text COLLATE "C" NOT NULL,
    vm_id           text COLLATE "C" NOT NULL,
    subresource     text COLLATE "C" NOT NULL,
    bucket_start    timestamptz NOT NULL,
    bucket_seconds  integer     NOT NULL,
    incurred_bill   numeric     NOT NULL,
    PRIMARY KEY (provider, vm_id, subresource, bucket_seconds, bucket_start)
);
CREATE INDEX vm_subresource_datapoints_bucket_idx ON billing.vm_subresource_datapoints (bucket_start);

-- Cluster nodes' costs per month.
CREATE TABLE billing.cluster_node_costs (
    provider        text COLLATE "C" NOT NULL,
    cluster_id      text COLLATE "C" NOT NULL,
    node_id         text COLLATE "C" NOT NULL,
    billing_month   date    NOT NULL,
    node_name       text,
    incurred_bill   numeric NOT NULL,
    price_per_hour  numeric,
    usage_seconds   numeric,
    PRIMARY KEY (provider, cluster_id, node_id, billing_month)
);

-- VM and volume state changes: one row per stretch of constant state and
-- price, as the billing-events endpoints return them per window.
CREATE TABLE billing.billing_events (
    provider        text COLLATE "C" NOT NULL,
    family          text COLLATE "C" NOT NULL,
    resource_id     text COLLATE "C" NOT NULL,
    event_start     timestamptz NOT NULL,
    event           text        NOT NULL,
    duration_hours  numeric,
    price_per_hour  numeric,
    total_cost      numeric,
    PRIMARY KEY (provider, family, resource_id, event_start)
);
CREATE INDEX billing_events_start_idx ON billing.billing_events (event_start);

-- The organisation's own history per billing month and per graph bucket.
CREATE TABLE billing.org_month_costs (
    provider             text COLLATE "C" NOT NULL,
    billing_month        date    NOT NULL,
    incurred_bill        numeric NOT NULL,
    non_discounted_bill  numeric,
    vm_cost              numeric,
    volume_cost          numeric,
    contract_cost        numeric,
    snapshot_cost        numeric,
    bucket_cost          numeric,
    ais_token_cost       numeric,
    ais_workload_cost    numeric,
    PRIMARY KEY (provider, billing_month)
);

CREATE TABLE billing.org_cost_datapoints (
    provider        text COLLATE "C" NOT NULL,
    bucket_start    timestamptz NOT NULL,
    bucket_seconds  integer     NOT NULL,
    incurred_bill   numeric     NOT NULL,
    PRIMARY KEY (provider, bucket_seconds, bucket_start)
);

-- Point-in-time observations, keyed by when they were observed so a second
-- run in the same hour or day rewrites nothing.
CREATE TABLE billing.usage_snapshots (
    provider          text COLLATE "C" NOT NULL,
    observed_on       date        NOT NULL,
    resource_type     text COLLATE "C" NOT NULL,
    resource_id       text COLLATE "C" NOT NULL,
    name              text,
    active            boolean,
    bill_per_minute   numeric,
    create_time       timestamptz,
    terminate_time    timestamptz,
    total_up_minutes  numeric,
    total_bill        numeric,
    exclude_billing   boolean,
    PRIMARY KEY (provider, observed_on, resource_type, resource_id)
);

CREATE TABLE billing.last_day_costs (
    provider        text COLLATE "C" NOT NULL,
    day             date    NOT NULL,
    instances_cost  numeric,
    volumes_cost    numeric,
    clusters_cost   numeric,
    total_cost      numeric,
    PRIMARY KEY (provider, day)
);

CREATE TABLE billing.credit_observations (
    provider             text COLLATE "C" NOT NULL,
    observed_hour        timestamptz NOT NULL,
    credit               numeric     NOT NULL,
    threshold            numeric,
    can_create_instance  boolean,
    PRIMARY KEY (provider, observed_hour),
    CONSTRAINT credit_observations_hour_check CHECK (observed_hour = date_trunc('hour', observed_hour))
);

CREATE TABLE billing.threshold_observations (
    provider         text COLLATE "C" NOT NULL,
    observed_on      date    NOT NULL,
    threshold_id     text COLLATE "C" NOT NULL,
    threshold_hours  numeric,
    title            text,
    tooltip          text,
    subscribed       boolean,
    PRIMARY KEY (provider, observed_on, threshold_id)
);

-- Every change to a stored money or usage value: what we believed before,
-- what we believe now, which run learned it.
CREATE TABLE billing.restatements (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider     text COLLATE "C" NOT NULL,
    table_name   text        NOT NULL,
    row_key      jsonb       NOT NULL,
    measure      text        NOT NULL,
    old_value    numeric,
    new_value    numeric,
    run_id       bigint,
    observed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX restatements_observed_idx ON billing.restatements (observed_at);
COMMENT ON TABLE billing.restatements IS 'History of corrections: a changed or vanished money/usage value, old and new, with the run that saw it.';

-- Per-unit errors of a run: what failed, where, why. Never a secret.
CREATE TABLE ingest.run_errors (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       bigint      NOT NULL REFERENCES ingest.runs (id) ON DELETE CASCADE,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    endpoint     text        NOT NULL,
    resource_id  text,
    http_status  integer,
    attempts     integer     NOT NULL DEFAULT 0,
    message      text        NOT NULL
);
CREATE INDEX run_errors_run_idx ON ingest.run_errors (run_id);

-- Every response body, compressed, stored once per distinct content for a
-- given endpoint and query.
CREATE TABLE ingest.raw_payloads (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider        text COLLATE "C" NOT NULL,
    endpoint        text        NOT NULL,
    params          text        NOT NULL,
    window_start    timestamptz,
    window_end      timestamptz,
    run_id          bigint,
    status_code     integer     NOT NULL,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    content_sha256  bytea       NOT NULL,
    body_gzip       bytea       NOT NULL
);
CREATE UNIQUE INDEX raw_payloads_content_idx ON ingest.raw_payloads (provider, endpoint, params, content_sha256);
CREATE INDEX raw_payloads_fetched_idx ON ingest.raw_payloads (fetched_at);

-- When the crawler last fetched a unit successfully and what it saw, so
-- incremental runs can skip what has not changed.
CREATE TABLE ingest.fetch_state (
    provider          text COLLATE "C" NOT NULL,
    unit              text COLLATE "C" NOT NULL,
    fingerprint       text        NOT NULL,
    fetched_at        timestamptz NOT NULL,
    full_refresh_at   timestamptz NOT NULL,
    run_id            bigint,
    PRIMARY KEY (provider, unit)
);

-- When each resource was first and last seen by the crawler.
CREATE TABLE ingest.resource_sightings (
    provider       text COLLATE "C" NOT NULL,
    family         text COLLATE "C" NOT NULL,
    resource_id    text COLLATE "C" NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    last_run_id    bigint,
    PRIMARY KEY (provider, family, resource_id)
);

-- Billing months a backfill has finished, so an interrupted one resumes.
CREATE TABLE ingest.backfill_months (
    provider       text COLLATE "C" NOT NULL,
    billing_month  date        NOT NULL,
    completed_at   timestamptz NOT NULL,
    run_id         bigint,
    PRIMARY KEY (provider, billing_month)
);

-- +goose Down
DROP TABLE ingest.backfill_months;
DROP TABLE ingest.resource_sightings;
DROP TABLE ingest.fetch_state;
DROP TABLE ingest.raw_payloads;
DROP TABLE ingest.run_errors;
DROP TABLE billing.restatements;
DROP TABLE billing.threshold_observations;
DROP TABLE billing.credit_observations;
DROP TABLE billing.last_day_costs;
DROP TABLE billing.usage_snapshots;
DROP TABLE billing.org_cost_datapoints;
DROP TABLE billing.org_month_costs;
DROP TABLE billing.billing_events;
DROP TABLE billing.cluster_node_costs;
DROP TABLE billing.vm_subresource_datapoints;
DROP TABLE billing.vm_subresource_costs;
DROP TABLE billing.cost_datapoints;
DROP TABLE billing.resource_month_costs;
DROP TABLE billing.resources;
