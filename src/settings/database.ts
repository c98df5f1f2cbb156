/**
 * Where the database is, as the environment says (docs/environment.md): `DATABASE_URL`, else the Secrets
 * Manager secret `INLET_DATABASE_SECRET_ARN` names, reached at `INLET_DATABASE_HOST` (the RDS Proxy) with
 * TLS as `INLET_DATABASE_SSLMODE` says. Neither set: the door decides (the CLI starts the embedded
 * PostgreSQL, the Lambda stops with an error).
 */
import { choice, type Env, text } from './env.js';

export const SSL_MODES = ['verify-full', 'no-verify', 'disable'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface DatabaseSecretSettings {
  readonly arn: string;
  /** Unset: the host the secret holds. */
  readonly host: string | undefined;
  readonly sslmode: SslMode;
}

export interface DatabaseEnvironment {
  readonly url: string | undefined;
  /** Read only when DATABASE_URL is unset: the URL wins. */
  readonly secret: DatabaseSecretSettings | undefined;
}

export function databaseFrom(env: Env): DatabaseEnvironment {
  const url = text(env, 'DATABASE_URL');
  if (url !== undefined) return { url, secret: undefined };
  const arn = text(env, 'INLET_DATABASE_SECRET_ARN');
  if (arn === undefined) return { url: undefined, secret: undefined };
  return {
    url: undefined,
    secret: {
      arn,
      host: text(env, 'INLET_DATABASE_HOST'),
      sslmode: choice(env, 'INLET_DATABASE_SSLMODE', SSL_MODES) ?? 'verify-full',
    },
  };
}
