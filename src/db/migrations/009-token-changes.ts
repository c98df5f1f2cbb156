/**
 * Upload services keep the tokens they have checked in memory (src/server/token-cache.ts) rather than read
 * inlet.api_tokens on every request. So that a revocation takes effect at once in every service, whatever
 * revokes it (`inlet tokens revoke`, or SQL by hand), a change to what makes a token valid notifies the
 * channel `inlet_tokens` with the token's hash when it commits, and each service drops that token. A token's
 * last_used_at, written at most once a minute per token, notifies nobody.
 */
export const sql = `
CREATE OR REPLACE FUNCTION inlet.notify_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('inlet_tokens', OLD.token_sha256);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS token_change ON inlet.api_tokens;
CREATE TRIGGER token_change
  AFTER UPDATE OF token_sha256, pipelines, expires_at, revoked_at OR DELETE ON inlet.api_tokens
  FOR EACH ROW EXECUTE FUNCTION inlet.notify_token_change();
`;
