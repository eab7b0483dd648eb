-- reports.vm_cost_breakdown_v1: what each part of each VM cost in a month.
-- Grain: provider, billing month, VM.
-- Columns: provider; billing_month; vm_id; vm_name; gpu, cpu, ram, disk, ephemeral,
--   public_ip (USD each); total (USD, their sum).
-- Example: SELECT vm_name, gpu, total FROM reports.vm_cost_breakdown_v1 ORDER BY total DESC;

-- +goose Up
CREATE VIEW reports.vm_cost_breakdown_v1 AS
SELECT s.provider,
       s.billing_month,
       s.vm_id,
       r.name AS vm_name,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'gpu'), 0)       AS gpu,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'cpu'), 0)       AS cpu,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'ram'), 0)       AS ram,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'disk'), 0)      AS disk,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'ephemeral'), 0) AS ephemeral,
       coalesce(sum(s.incurred_bill) FILTER (WHERE s.subresource = 'publicip'), 0)  AS public_ip,
       sum(s.incurred_bill)                                                          AS total
FROM billing.vm_subresource_costs s
LEFT JOIN billing.resources r ON r.provider = s.provider AND r.family = 'virtual-machine' AND r.resource_id = s.vm_id
GROUP BY s.provider, s.billing_month, s.vm_id, r.name;
COMMENT ON VIEW reports.vm_cost_breakdown_v1 IS 'Each VM''s monthly cost split into gpu, cpu, ram, disk, ephemeral disk and public IP.';
GRANT SELECT ON reports.vm_cost_breakdown_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.vm_cost_breakdown_v1;
