/**
 * Where the upload API puts a client's files: `clients/<caller>/<name>`, a prefix bound to the IAM
 * principal that asked for the upload (infra/functions/upload-key.ts). Pipelines match the name the
 * client gave, so such a key is routed on what follows the prefix (the serverless handler does so).
 */
export const CLIENT_UPLOADS_PREFIX = 'clients/';

const CLIENT_KEY = /^clients\/[^/]+\/(.+)$/s;

/** The name a pipeline's `match` globs are tried on: the key, or the client's name for it under clients/. */
export function routingName(key: string): string {
  return CLIENT_KEY.exec(key)?.[1] ?? key;
}
