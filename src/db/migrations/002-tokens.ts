/**
 * Bearer tokens for the upload API, made by `inlet tokens create`. Only the SHA-256 of a token is
 * stored: the plain token is shown once, at creation. `pipelines` null means every pipeline.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS inlet.api_tokens (
  id            uuid PRIMARY KEY,
  name          text NOT NULL,
  token_sha256  text NOT NULL UNIQUE,
  pipelines     text[],
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
`;
