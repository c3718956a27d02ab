-- Differential privacy (issue 19): a model's optional (epsilon, delta) budget, and the epsilon spent after each version
-- (fl-protocol PrivacyAccountant over the model's rounds up to the version's). NULL: no budget / not accounted.
ALTER TABLE models ADD COLUMN dp_epsilon_budget DOUBLE PRECISION;
ALTER TABLE models ADD COLUMN dp_delta DOUBLE PRECISION;
ALTER TABLE versions ADD COLUMN dp_epsilon DOUBLE PRECISION;
