/**
 * What an Idempotency-Key was first used for, so a reuse can be told apart from a retry: the pipeline the
 * upload went to, its name as the ledger knows it (`upload:///…`) and the SHA-256 of its body. The same
 * request again replays the first answer; a different one is refused with 409 `idempotency_key_reused`.
 * Keys recorded before this migration take the three from their ingestion's ledger row where it has one;
 * a key with none of them (no ledger row) is compared on nothing and replays, as it did before.
 */
export const sql = `
ALTER TABLE inlet.upload_keys
  ADD COLUMN IF NOT EXISTS pipeline        text,
  ADD COLUMN IF NOT EXISTS source_uri      text,
  ADD COLUMN IF NOT EXISTS content_sha256  text;
UPDATE inlet.upload_keys AS k
   SET pipeline = i.pipeline, source_uri = i.source_uri, content_sha256 = i.content_sha256
  FROM inlet.ingestions AS i
 WHERE i.id = k.ingestion_id AND k.content_sha256 IS NULL;
`;
