-- FedSeal model registry schema. Portable between SQLite and PostgreSQL: binary values are stored
-- as base64 text and hashes as lower-case hex, so no BLOB/BYTEA dialect differences arise.
CREATE TABLE settings (
  name VARCHAR(100) PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE models (
  model_id VARCHAR(128) PRIMARY KEY,
  architecture TEXT NOT NULL,
  he_params_id VARCHAR(100) NOT NULL,
  he_public_key_hash VARCHAR(64),
  key_holder_id VARCHAR(128),
  parameter_count BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE versions (
  version_hash VARCHAR(64) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  seq INTEGER NOT NULL,
  parent_hash VARCHAR(64),
  round_no INTEGER NOT NULL,
  aggregate_hash VARCHAR(64),
  update_root VARCHAR(64),
  weights_hash VARCHAR(64) NOT NULL,
  publisher_id VARCHAR(128) NOT NULL,
  accuracy DOUBLE PRECISION,
  published_at BIGINT NOT NULL,
  record TEXT NOT NULL,
  UNIQUE (model_id, seq)
);

CREATE TABLE clients (
  client_id VARCHAR(128) PRIMARY KEY,
  public_key TEXT NOT NULL,
  model_ids TEXT NOT NULL,
  enrolled_at BIGINT NOT NULL
);

CREATE TABLE he_public_keys (
  key_hash VARCHAR(64) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  he_params_id VARCHAR(100) NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE rounds (
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  status VARCHAR(20) NOT NULL,
  quorum INTEGER NOT NULL,
  deadline BIGINT NOT NULL,
  local_epochs INTEGER NOT NULL,
  base_hash VARCHAR(64) NOT NULL,
  public_key_hash VARCHAR(64) NOT NULL,
  opened_at BIGINT NOT NULL,
  closed_at BIGINT,
  accepted_count INTEGER NOT NULL,
  rejected_count INTEGER NOT NULL,
  aggregate_hash VARCHAR(64),
  record TEXT NOT NULL,
  PRIMARY KEY (model_id, round_no)
);

CREATE TABLE accepted_updates (
  update_hash VARCHAR(64) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  client_id VARCHAR(128) NOT NULL,
  update_id VARCHAR(200) NOT NULL,
  weight BIGINT NOT NULL,
  accepted_at BIGINT NOT NULL
);
CREATE INDEX accepted_updates_round ON accepted_updates (model_id, round_no);

CREATE TABLE rejected_updates (
  subject_hash VARCHAR(64) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  client_id VARCHAR(128),
  update_id VARCHAR(200),
  reason VARCHAR(40) NOT NULL,
  detail TEXT NOT NULL,
  at_time BIGINT NOT NULL
);
CREATE INDEX rejected_updates_round ON rejected_updates (model_id, round_no);

CREATE TABLE aggregates (
  aggregate_hash VARCHAR(64) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  status VARCHAR(40) NOT NULL,
  update_root VARCHAR(64) NOT NULL,
  participants TEXT NOT NULL,
  total_weight BIGINT NOT NULL,
  accepted_count INTEGER NOT NULL,
  rejected_count INTEGER NOT NULL,
  closed_at BIGINT NOT NULL
);
CREATE INDEX aggregates_round ON aggregates (model_id, round_no);

CREATE TABLE update_commits (
  commit_hash VARCHAR(64) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  client_id VARCHAR(128) NOT NULL,
  update_id VARCHAR(200) NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE INDEX update_commits_round ON update_commits (model_id, round_no);

CREATE TABLE update_chunks (
  chunk_hash VARCHAR(64) PRIMARY KEY,
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  client_id VARCHAR(128) NOT NULL,
  update_id VARCHAR(200) NOT NULL,
  chunk_index INTEGER NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE INDEX update_chunks_round ON update_chunks (model_id, round_no);

CREATE TABLE log_entries (
  idx BIGINT PRIMARY KEY,
  entry TEXT NOT NULL,
  leaf_hash VARCHAR(64) NOT NULL,
  kind VARCHAR(40) NOT NULL,
  model_id VARCHAR(128) NOT NULL,
  round_no INTEGER NOT NULL,
  subject_hash VARCHAR(64) NOT NULL
);
CREATE INDEX log_entries_subject ON log_entries (subject_hash);

CREATE TABLE tree_heads (
  tree_size BIGINT PRIMARY KEY,
  root_hash VARCHAR(64) NOT NULL,
  issued_at BIGINT NOT NULL,
  record TEXT NOT NULL
);
