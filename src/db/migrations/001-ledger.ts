/**
 * The ledger of ingestions and their rejected rows.
 * One row per attempt to ingest a file identity; at most one `loaded` row per identity
 * (pipeline, source URI, content hash) unless loaded again on purpose with --force.
 */
export const sql = `
CREATE SCHEMA IF NOT EXISTS inlet;

CREATE TABLE IF NOT EXISTS inlet.ingestions (
  id              uuid PRIMARY KEY,
  pipeline        text NOT NULL,
  source_uri      text NOT NULL,
  version_id      text,
  etag            text,
  source_order    text,
  content_sha256  text,
  bytes           bigint,
  status          text NOT NULL CHECK (status IN ('queued', 'processing', 'loaded', 'duplicate', 'superseded', 'rejected', 'failed')),
  forced          boolean NOT NULL DEFAULT false,
  duplicate_of    uuid,
  target_table    text,
  mode            text,
  rows_loaded     bigint NOT NULL DEFAULT 0,
  rows_rejected   bigint NOT NULL DEFAULT 0,
  received_at     timestamptz,
  started_at      timestamptz,
  finished_at     timestamptz,
  error_code      text,
  error_message   text,
  details         jsonb
);

CREATE UNIQUE INDEX IF NOT EXISTS ingestions_one_load_per_identity
  ON inlet.ingestions (pipeline, source_uri, content_sha256)
  WHERE status = 'loaded' AND NOT forced;
CREATE INDEX IF NOT EXISTS ingestions_by_source ON inlet.ingestions (pipeline, source_uri);
CREATE INDEX IF NOT EXISTS ingestions_recent ON inlet.ingestions (coalesce(finished_at, started_at, received_at) DESC);
CREATE INDEX IF NOT EXISTS ingestions_by_status ON inlet.ingestions (status);

CREATE TABLE IF NOT EXISTS inlet.rejects (
  ingestion_id  uuid NOT NULL REFERENCES inlet.ingestions (id) ON DELETE CASCADE,
  line          bigint,
  record        bigint,
  column_name   text,
  raw_value     text,
  reason        text NOT NULL
);
CREATE INDEX IF NOT EXISTS rejects_by_ingestion ON inlet.rejects (ingestion_id, record);
`;
