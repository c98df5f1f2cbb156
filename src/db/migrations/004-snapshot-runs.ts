/**
 * One row per run of the snapshot scheduler: when it ran, with which provider and target, and how it ended
 * (the snapshot it made and what it uploaded, what retention deleted, or the error). Kept in the database
 * rather than in the snapshot target because a run that fails to reach the target (or has the wrong key)
 * must still be recorded, the EBS provider has no bucket at all, and the dashboard reads it beside the
 * ledger. Rows are small and few (one per scheduled run); the scheduler deletes those older than a year.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS inlet.snapshot_runs (
  id              uuid PRIMARY KEY,
  trigger         text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
  provider        text NOT NULL,
  target          text NOT NULL,
  host            text NOT NULL,
  status          text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'abandoned')),
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  snapshot_id     text,
  files           bigint,
  bytes           bigint,
  bytes_uploaded  bigint,
  pruned          integer,
  prune_error     text,
  error_code      text,
  error_message   text
);
CREATE INDEX IF NOT EXISTS snapshot_runs_recent ON inlet.snapshot_runs (started_at DESC);
`;
