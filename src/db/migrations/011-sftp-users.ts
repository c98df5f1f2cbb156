/**
 * The partners of the SFTP door (`inlet sftp-users`), beside the API tokens: each user may write the
 * pipelines listed, and signs in with one of its public keys (the key type and the base64 blob as an
 * OpenSSH `.pub` file holds them), or with a password only when one was set (an scrypt hash, never the
 * password). Removing a user removes its keys.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS inlet.sftp_users (
  name           text PRIMARY KEY,
  pipelines      text[] NOT NULL,
  password_hash  text,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS inlet.sftp_user_keys (
  user_name    text NOT NULL REFERENCES inlet.sftp_users (name) ON DELETE CASCADE,
  key_type     text NOT NULL,
  key_blob     text NOT NULL,
  comment      text,
  fingerprint  text NOT NULL,
  added_at     timestamptz NOT NULL DEFAULT now(),
  -- The order keys were added in, which added_at (one value per transaction) cannot tell apart.
  position     bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (user_name, key_blob)
);
`;
