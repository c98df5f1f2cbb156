/**
 * Idempotency keys of uploads: a client that retries an upload with the same `Idempotency-Key` gets the
 * first ingestion back instead of storing the file twice. Keys are scoped to the token that sent them
 * (two clients may pick the same key) and honoured for 24 hours; older rows are deleted lazily.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS inlet.upload_keys (
  token_id      text NOT NULL,
  key           text NOT NULL,
  ingestion_id  uuid NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (token_id, key)
);
CREATE INDEX IF NOT EXISTS upload_keys_by_age ON inlet.upload_keys (created_at);
`;
