-- Model layouts (fl-protocol ModelLayout: named tensor shapes and, for DJL blocks, the .params template),
-- stored with the model at registration for export. Same portability rules as V1: base64 text, hex hash.
ALTER TABLE models ADD COLUMN layout TEXT;
ALTER TABLE models ADD COLUMN layout_hash VARCHAR(64);
