-- Accounts: a warehouse holds many accounts of many providers. Every key of
-- the warehouse and of the crawler's bookkeeping now starts with
-- (provider, account), where account is the name the user gives a source in
-- the config file (acme-prod). Rows stored before this migration belong to
-- the account "default", which is also the name of the one source the
-- environment variables describe without a config file.
--
-- The new column has no default once filled: every writer states it.

-- +goose Up

CREATE TABLE billing.accounts (
    provider             text COLLATE "C" NOT NULL,
    account              text COLLATE "C" NOT NULL,
    display_name         text,
    provider_account_id  text,
    currency             text,
    region               text,
    first_seen_at        timestamptz NOT NULL DEFAULT now(),
    last_seen_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, account),
    CONSTRAINT accounts_account_check CHECK (account ~ '^[a-z0-9][a-z0-9._-]{0,62}$')
);
COMMENT ON TABLE billing.accounts IS 'One row per configured source: provider, the account name of the config, what the API says about it.';

-- billing: the account joins every primary key right after the provider.
ALTER TABLE billing.resources ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.resources DROP CONSTRAINT resources_pkey, ADD PRIMARY KEY (provider, account, family, resource_id);

ALTER TABLE billing.resource_month_costs ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.resource_month_costs DROP CONSTRAINT resource_month_costs_pkey,
    ADD PRIMARY KEY (provider, account, family, resource_id, billing_month);

ALTER TABLE billing.cost_datapoints ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.cost_datapoints DROP CONSTRAINT cost_datapoints_pkey,
    ADD PRIMARY KEY (provider, account, family, resource_id, bucket_seconds, bucket_start);

ALTER TABLE billing.vm_subresource_costs ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.vm_subresource_costs DROP CONSTRAINT vm_subresource_costs_pkey,
    ADD PRIMARY KEY (provider, account, vm_id, billing_month, subresource);

ALTER TABLE billing.vm_subresource_datapoints ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.vm_subresource_datapoints DROP CONSTRAINT vm_subresource_datapoints_pkey,
    ADD PRIMARY KEY (provider, account, vm_id, subresource, bucket_seconds, bucket_start);

ALTER TABLE billing.cluster_node_costs ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.cluster_node_costs DROP CONSTRAINT cluster_node_costs_pkey,
    ADD PRIMARY KEY (provider, account, cluster_id, node_id, billing_month);

ALTER TABLE billing.billing_events ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.billing_events DROP CONSTRAINT billing_events_pkey,
    ADD PRIMARY KEY (provider, account, family, resource_id, event_start);

ALTER TABLE billing.org_month_costs ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.org_month_costs DROP CONSTRAINT org_month_costs_pkey,
    ADD PRIMARY KEY (provider, account, billing_month);

ALTER TABLE billing.org_cost_datapoints ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.org_cost_datapoints DROP CONSTRAINT org_cost_datapoints_pkey,
    ADD PRIMARY KEY (provider, account, bucket_seconds, bucket_start);

ALTER TABLE billing.usage_snapshots ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.usage_snapshots DROP CONSTRAINT usage_snapshots_pkey,
    ADD PRIMARY KEY (provider, account, observed_on, resource_type, resource_id);

ALTER TABLE billing.last_day_costs ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.last_day_costs DROP CONSTRAINT last_day_costs_pkey,
    ADD PRIMARY KEY (provider, account, day);

ALTER TABLE billing.credit_observations ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.credit_observations DROP CONSTRAINT credit_observations_pkey,
    ADD PRIMARY KEY (provider, account, observed_hour);

ALTER TABLE billing.threshold_observations ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE billing.threshold_observations DROP CONSTRAINT threshold_observations_pkey,
    ADD PRIMARY KEY (provider, account, observed_on, threshold_id);

ALTER TABLE billing.restatements ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
CREATE INDEX restatements_account_idx ON billing.restatements (provider, account, observed_at);

-- ingest: the run ledger and its errors, and every piece of bookkeeping.
ALTER TABLE ingest.runs ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE ingest.runs ALTER COLUMN provider DROP DEFAULT;
CREATE INDEX runs_account_idx ON ingest.runs (provider, account, started_at DESC);

ALTER TABLE ingest.run_errors ADD COLUMN provider text COLLATE "C", ADD COLUMN account text COLLATE "C";
UPDATE ingest.run_errors e SET provider = r.provider, account = r.account FROM ingest.runs r WHERE r.id = e.run_id;
ALTER TABLE ingest.run_errors ALTER COLUMN provider SET NOT NULL, ALTER COLUMN account SET NOT NULL;

ALTER TABLE ingest.raw_payloads ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
DROP INDEX ingest.raw_payloads_content_idx;
CREATE UNIQUE INDEX raw_payloads_content_idx ON ingest.raw_payloads (provider, account, endpoint, params, content_sha256);

ALTER TABLE ingest.fetch_state ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE ingest.fetch_state DROP CONSTRAINT fetch_state_pkey, ADD PRIMARY KEY (provider, account, unit);

ALTER TABLE ingest.resource_sightings ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE ingest.resource_sightings DROP CONSTRAINT resource_sightings_pkey,
    ADD PRIMARY KEY (provider, account, family, resource_id);

ALTER TABLE ingest.backfill_months ADD COLUMN account text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE ingest.backfill_months DROP CONSTRAINT backfill_months_pkey,
    ADD PRIMARY KEY (provider, account, billing_month);

-- The defaults only filled the rows already there.
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'billing.resources', 'billing.resource_month_costs', 'billing.cost_datapoints', 'billing.vm_subresource_costs',
        'billing.vm_subresource_datapoints', 'billing.cluster_node_costs', 'billing.billing_events', 'billing.org_month_costs',
        'billing.org_cost_datapoints', 'billing.usage_snapshots', 'billing.last_day_costs', 'billing.credit_observations',
        'billing.threshold_observations', 'billing.restatements', 'ingest.runs', 'ingest.raw_payloads', 'ingest.fetch_state',
        'ingest.resource_sightings', 'ingest.backfill_months']
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN account DROP DEFAULT', t);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- Every provider that has rows gets its default account.
INSERT INTO billing.accounts (provider, account, first_seen_at, last_seen_at)
SELECT provider, 'default', min(started_at), max(started_at) FROM ingest.runs GROUP BY provider;

-- +goose Down

-- Going back to one account per provider loses nothing only if there is one.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM ingest.runs WHERE account <> 'default')
       OR EXISTS (SELECT 1 FROM billing.accounts WHERE account <> 'default') THEN
        RAISE EXCEPTION 'the warehouse holds accounts other than "default"; migrating down would merge them. Export or delete them first.';
    END IF;
END
$$;
-- +goose StatementEnd

ALTER TABLE ingest.backfill_months DROP CONSTRAINT backfill_months_pkey, ADD PRIMARY KEY (provider, billing_month);
ALTER TABLE ingest.backfill_months DROP COLUMN account;
ALTER TABLE ingest.resource_sightings DROP CONSTRAINT resource_sightings_pkey, ADD PRIMARY KEY (provider, family, resource_id);
ALTER TABLE ingest.resource_sightings DROP COLUMN account;
ALTER TABLE ingest.fetch_state DROP CONSTRAINT fetch_state_pkey, ADD PRIMARY KEY (provider, unit);
ALTER TABLE ingest.fetch_state DROP COLUMN account;
DROP INDEX ingest.raw_payloads_content_idx;
ALTER TABLE ingest.raw_payloads DROP COLUMN account;
CREATE UNIQUE INDEX raw_payloads_content_idx ON ingest.raw_payloads (provider, endpoint, params, content_sha256);
ALTER TABLE ingest.run_errors DROP COLUMN provider, DROP COLUMN account;
DROP INDEX ingest.runs_account_idx;
ALTER TABLE ingest.runs ALTER COLUMN provider SET DEFAULT 'hyperstack';
ALTER TABLE ingest.runs DROP COLUMN account;

DROP INDEX billing.restatements_account_idx;
ALTER TABLE billing.restatements DROP COLUMN account;
ALTER TABLE billing.threshold_observations DROP CONSTRAINT threshold_observations_pkey, ADD PRIMARY KEY (provider, observed_on, threshold_id);
ALTER TABLE billing.threshold_observations DROP COLUMN account;
ALTER TABLE billing.credit_observations DROP CONSTRAINT credit_observations_pkey, ADD PRIMARY KEY (provider, observed_hour);
ALTER TABLE billing.credit_observations DROP COLUMN account;
ALTER TABLE billing.last_day_costs DROP CONSTRAINT last_day_costs_pkey, ADD PRIMARY KEY (provider, day);
ALTER TABLE billing.last_day_costs DROP COLUMN account;
ALTER TABLE billing.usage_snapshots DROP CONSTRAINT usage_snapshots_pkey, ADD PRIMARY KEY (provider, observed_on, resource_type, resource_id);
ALTER TABLE billing.usage_snapshots DROP COLUMN account;
ALTER TABLE billing.org_cost_datapoints DROP CONSTRAINT org_cost_datapoints_pkey, ADD PRIMARY KEY (provider, bucket_seconds, bucket_start);
ALTER TABLE billing.org_cost_datapoints DROP COLUMN account;
ALTER TABLE billing.org_month_costs DROP CONSTRAINT org_month_costs_pkey, ADD PRIMARY KEY (provider, billing_month);
ALTER TABLE billing.org_month_costs DROP COLUMN account;
ALTER TABLE billing.billing_events DROP CONSTRAINT billing_events_pkey, ADD PRIMARY KEY (provider, family, resource_id, event_start);
ALTER TABLE billing.billing_events DROP COLUMN account;
ALTER TABLE billing.cluster_node_costs DROP CONSTRAINT cluster_node_costs_pkey, ADD PRIMARY KEY (provider, cluster_id, node_id, billing_month);
ALTER TABLE billing.cluster_node_costs DROP COLUMN account;
ALTER TABLE billing.vm_subresource_datapoints DROP CONSTRAINT vm_subresource_datapoints_pkey,
    ADD PRIMARY KEY (provider, vm_id, subresource, bucket_seconds, bucket_start);
ALTER TABLE billing.vm_subresource_datapoints DROP COLUMN account;
ALTER TABLE billing.vm_subresource_costs DROP CONSTRAINT vm_subresource_costs_pkey, ADD PRIMARY KEY (provider, vm_id, billing_month, subresource);
ALTER TABLE billing.vm_subresource_costs DROP COLUMN account;
ALTER TABLE billing.cost_datapoints DROP CONSTRAINT cost_datapoints_pkey,
    ADD PRIMARY KEY (provider, family, resource_id, bucket_seconds, bucket_start);
ALTER TABLE billing.cost_datapoints DROP COLUMN account;
ALTER TABLE billing.resource_month_costs DROP CONSTRAINT resource_month_costs_pkey,
    ADD PRIMARY KEY (provider, family, resource_id, billing_month);
ALTER TABLE billing.resource_month_costs DROP COLUMN account;
ALTER TABLE billing.resources DROP CONSTRAINT resources_pkey, ADD PRIMARY KEY (provider, family, resource_id);
ALTER TABLE billing.resources DROP COLUMN account;

DROP TABLE billing.accounts;
