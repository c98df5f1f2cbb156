/**
 * S3 source URIs in the ledger become percent-encoded, as every door now writes them (encodeKeyPath in
 * src/storage/uri-encoding.ts: each `/`-separated segment as UTF-8 bytes, encodeURIComponent's set kept, the
 * rest as upper-case %XX). Rows written before held the raw key (`s3://b/a b.csv`, now `s3://b/a%20b.csv`);
 * left so, a redelivered old object would not be found as a duplicate and would load twice. Only old rows
 * exist when this runs (migrations run before a process ingests), so every `s3://` row is encoded once.
 * The rewrite goes through a `s3-raw://` step so that no row takes, even for a moment, the URI another row
 * still has (the one-load-per-identity index is checked row by row). `upload:///` rows were already encoded
 * this way, and `file://` URIs are file URLs; neither changes. inlet.contracts.inferred_from names the file
 * a contract was inferred from, for people: it is rewritten too, to match the ledger.
 */
export const sql = `
CREATE FUNCTION inlet.migration_007_encode_key(key text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $fn$
  SELECT coalesce(string_agg(
           CASE WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90 OR b BETWEEN 97 AND 122
                  OR b IN (33, 39, 40, 41, 42, 45, 46, 47, 95, 126)
                THEN chr(b)
                ELSE '%' || upper(lpad(to_hex(b), 2, '0')) END,
           '' ORDER BY i), '')
    FROM (SELECT i, get_byte(convert_to(key, 'UTF8'), i) AS b
            FROM generate_series(0, octet_length(convert_to(key, 'UTF8')) - 1) AS i) AS bytes
$fn$;

CREATE FUNCTION inlet.migration_007_encode_uri(uri text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $fn$
  SELECT CASE WHEN strpos(rest, '/') = 0 THEN 's3://' || rest
              ELSE 's3://' || left(rest, strpos(rest, '/')) || inlet.migration_007_encode_key(substr(rest, strpos(rest, '/') + 1))
         END
    FROM (SELECT substr(uri, length('s3-raw://') + 1) AS rest) AS parts
$fn$;

UPDATE inlet.ingestions SET source_uri = 's3-raw://' || substr(source_uri, 6) WHERE source_uri LIKE 's3://%';
UPDATE inlet.ingestions SET source_uri = inlet.migration_007_encode_uri(source_uri) WHERE source_uri LIKE 's3-raw://%';
UPDATE inlet.contracts
   SET inferred_from = inlet.migration_007_encode_uri('s3-raw://' || substr(inferred_from, 6))
 WHERE inferred_from LIKE 's3://%';

DROP FUNCTION inlet.migration_007_encode_uri(text);
DROP FUNCTION inlet.migration_007_encode_key(text);
`;
