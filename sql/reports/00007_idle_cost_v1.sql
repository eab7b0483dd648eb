-- reports.idle_cost_v1: what VMs cost while not running.
-- Grain: provider, billing month (of each state stretch's start), VM.
-- A SHUTOFF VM keeps billing all its resources; a HIBERNATED one bills its storage.
-- Columns: provider; billing_month; vm_id; vm_name; active_hours, shutoff_hours,
--   hibernated_hours (h); idle_cost (USD, what SHUTOFF and HIBERNATED time cost).
-- Example: SELECT vm_name, idle_cost FROM reports.idle_cost_v1 WHERE idle_cost > 0 ORDER BY idle_cost DESC;

-- +goose Up
CREATE VIEW reports.idle_cost_v1 AS
SELECT e.provider,
       date_trunc('month', e.event_start AT TIME ZONE 'UTC')::date                            AS billing_month,
       e.resource_id                                                                        AS vm_id,
       r.name                                                                               AS vm_name,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'ACTIVE'), 0)                 AS active_hours,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'SHUTOFF'), 0)                AS shutoff_hours,
       coalesce(sum(e.duration_hours) FILTER (WHERE e.event = 'HIBERNATED'), 0)             AS hibernated_hours,
       coalesce(sum(e.total_cost) FILTER (WHERE e.event IN ('SHUTOFF', 'HIBERNATED')), 0)   AS idle_cost
FROM billing.billing_events e
LEFT JOIN billing.resources r USING (provider, family, resource_id)
WHERE e.family = 'virtual-machine'
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW reports.idle_cost_v1 IS 'Hours each VM spent active, shut off and hibernated per month, and what the idle time cost.';
GRANT SELECT ON reports.idle_cost_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.idle_cost_v1;
