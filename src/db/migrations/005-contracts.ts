/**
 * Contracts inferred for pipelines that set `infer: true` and list no columns: the first file that
 * loads decides the columns (and creates the table) in the same transaction as its rows, and every
 * later file is read with the stored contract, so a file of another shape is drift, not a new guess.
 * Deleting a pipeline's row makes its next file infer again.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS inlet.contracts (
  pipeline        text PRIMARY KEY,
  target_table    text NOT NULL,
  columns         jsonb NOT NULL,
  inferred_from   text NOT NULL,
  ingestion_id    uuid NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
`;
