-- Federated evaluation (issue 19): the decrypted metrics of each evaluation round (RoundOpened.task = EVALUATE)
-- of a model version, with the round's participants (its aggregate's accepted set). Same portability rules as V1.
CREATE TABLE federated_evaluations (
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  version_hash VARCHAR(64) NOT NULL,
  aggregate_hash VARCHAR(64) NOT NULL,
  examples BIGINT NOT NULL,
  accuracy DOUBLE PRECISION,
  loss DOUBLE PRECISION NOT NULL,
  participants TEXT NOT NULL,
  recorded_by VARCHAR(128) NOT NULL,
  recorded_at BIGINT NOT NULL,
  PRIMARY KEY (model_id, round_no)
);
CREATE INDEX federated_evaluations_version ON federated_evaluations (version_hash);
