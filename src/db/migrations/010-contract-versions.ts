/**
 * The history of contracts that evolve (`onDrift: evolve`): version 1 of a pipeline's contract is the one its
 * configuration (or, with `infer: true`, its first file) gives; each row here is a later version, the columns
 * one file added to the table and the DDL that added them, written in that file's transaction, so a file
 * that does not load leaves neither the columns nor the version. `inlet contracts <pipeline>` lists them.
 * A load's contract is its configured columns plus the columns of every version here.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS inlet.contract_versions (
  pipeline        text NOT NULL,
  version         integer NOT NULL CHECK (version >= 2),
  target_table    text NOT NULL,
  columns         jsonb NOT NULL,
  ddl             text NOT NULL,
  ingestion_id    uuid NOT NULL,
  source_uri      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, version)
);
`;
