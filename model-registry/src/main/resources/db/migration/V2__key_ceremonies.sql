-- Threshold key ceremonies and the decryption shares of their holders (same portability rules as V1).
ALTER TABLE models ADD COLUMN ceremony_id VARCHAR(128);

CREATE TABLE ceremonies (
  ceremony_id VARCHAR(128) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  he_params_id VARCHAR(100) NOT NULL,
  holder_ids TEXT NOT NULL,
  status VARCHAR(20) NOT NULL,
  record_hash VARCHAR(64) NOT NULL,
  public_key_hash VARCHAR(64),
  failure TEXT,
  opened_at BIGINT NOT NULL,
  completed_at BIGINT
);

CREATE TABLE ceremony_messages (
  record_hash VARCHAR(64) PRIMARY KEY,
  ceremony_id VARCHAR(128) NOT NULL,
  seq INTEGER NOT NULL,
  holder_id VARCHAR(128) NOT NULL,
  phase VARCHAR(40) NOT NULL,
  received_at BIGINT NOT NULL,
  UNIQUE (ceremony_id, seq)
);

CREATE TABLE ceremony_rejections (
  ceremony_id VARCHAR(128) NOT NULL,
  holder_id VARCHAR(128) NOT NULL,
  phase VARCHAR(40) NOT NULL,
  reason VARCHAR(40) NOT NULL,
  detail TEXT NOT NULL,
  at_time BIGINT NOT NULL
);
CREATE INDEX ceremony_rejections_id ON ceremony_rejections (ceremony_id);

CREATE TABLE decryption_shares (
  record_hash VARCHAR(64) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  ceremony_id VARCHAR(128) NOT NULL,
  holder_id VARCHAR(128) NOT NULL,
  aggregate_hash VARCHAR(64) NOT NULL,
  received_at BIGINT NOT NULL,
  UNIQUE (aggregate_hash, holder_id)
);
