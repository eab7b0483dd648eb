-- reports.ai_usage_v1: token-billed AI services per month.
-- Grain: provider, billing month, resource of serverless_inference, model_evaluation,
--   data_synthesis or image_generation.
-- Columns: provider; billing_month; service; resource_id; resource_name; base_model;
--   lora_adapter; input_tokens; output_tokens; incurred_bill (USD);
--   cost_per_million_tokens (USD per 1,000,000 input and output tokens).
-- Example: SELECT base_model, sum(output_tokens), sum(incurred_bill) FROM reports.ai_usage_v1 GROUP BY 1;

-- +goose Up
CREATE VIEW reports.ai_usage_v1 AS
SELECT c.provider,
       c.billing_month,
       c.family                        AS service,
       c.resource_id,
       r.name                          AS resource_name,
       r.base_model,
       nullif(r.lora_adapter, '')      AS lora_adapter,
       coalesce(c.input_tokens, 0)     AS input_tokens,
       coalesce(c.output_tokens, 0)    AS output_tokens,
       c.incurred_bill,
       round(c.incurred_bill * 1000000 / nullif(coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0), 0), 9) AS cost_per_million_tokens
FROM billing.resource_month_costs c
LEFT JOIN billing.resources r USING (provider, family, resource_id)
WHERE c.family IN ('serverless_inference', 'model_evaluation', 'data_synthesis', 'image_generation');
COMMENT ON VIEW reports.ai_usage_v1 IS 'Tokens and cost of the token-billed AI services per month, and the cost per million tokens.';
GRANT SELECT ON reports.ai_usage_v1 TO billing_reader;

-- +goose Down
DROP VIEW reports.ai_usage_v1;
