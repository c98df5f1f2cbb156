/**
 * Signing a partner in: public keys always (compared as bytes in constant time, then the signature
 * checked against the stored key), a password only for a user that has one. The back-off is per source
 * address: a connection that ends without signing in counts as one failure; from the third failure in the
 * window on, every refused attempt from that address is answered more slowly (doubling, up to 8 s), and
 * past `blockAfter` failures the address's connections are closed at once until the window has passed.
 */
import type pg from 'pg';
import type { AuthContext } from 'ssh2';
import { isUndefinedTable } from '../../ledger/read.js';
import { matchingKey, verifySignature } from './keys.js';
import { verifyPassword } from './password.js';
import { credentialsOf, type SftpCredentials } from './users.js';

export interface BackoffOptions {
  /** How long failures are remembered; default 15 minutes. */
  windowMs?: number;
  /** Failed connections from one address within the window before its connections are closed at once; default 30. */
  blockAfter?: number;
}

const SLOW_FROM = 3;
const MAX_DELAY_MS = 8000;
/** Sign-in attempts per connection, as OpenSSH's MaxAuthTries. */
export const MAX_ATTEMPTS = 6;

export class FailedSignIns {
  private readonly failures = new Map<string, number[]>();
  private readonly windowMs: number;
  private readonly blockAfter: number;

  constructor(options: BackoffOptions = {}) {
    this.windowMs = options.windowMs ?? 15 * 60 * 1000;
    this.blockAfter = options.blockAfter ?? 30;
  }

  private recent(address: string): number[] {
    const cutoff = Date.now() - this.windowMs;
    const times = (this.failures.get(address) ?? []).filter((at) => at > cutoff);
    if (times.length === 0) this.failures.delete(address);
    else this.failures.set(address, times);
    return times;
  }

  record(address: string): void {
    this.failures.set(address, [...this.recent(address), Date.now()]);
    // Bounded memory under a spray from many addresses: the oldest address is forgotten first.
    if (this.failures.size > 100_000) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  isBlocked(address: string): boolean {
    return this.recent(address).length >= this.blockAfter;
  }

  /** How long to wait before answering a refused attempt from this address. */
  delayMs(address: string): number {
    const count = this.recent(address).length;
    return count < SLOW_FROM ? 0 : Math.min(MAX_DELAY_MS, 250 * 2 ** (count - SLOW_FROM));
  }
}

export type SignInOutcome =
  | { accepted: true; credentials: SftpCredentials }
  /** A key the client only asks about (no signature yet): told it may use it; no sign-in yet. */
  | { accepted: false; reason: 'key-ok' }
  | { accepted: false; reason: 'refused'; why: string; methods: ('publickey' | 'password')[] };

/** Judges one authentication request; never throws for what the client did wrong. */
export async function judgeSignIn(pool: pg.Pool, ctx: AuthContext): Promise<SignInOutcome> {
  const credentials = await credentialsOf(pool, ctx.username).catch((error: unknown) => {
    // The user table may not exist before the first migration: nobody can sign in then.
    if (isUndefinedTable(error)) return undefined;
    throw error;
  });
  const methods: ('publickey' | 'password')[] = credentials?.passwordHash
    ? ['publickey', 'password']
    : ['publickey'];
  const refused = (why: string): SignInOutcome => ({ accepted: false, reason: 'refused', why, methods });
  switch (ctx.method) {
    case 'none':
      return refused('asked which methods are allowed');
    case 'publickey': {
      const key = credentials === undefined ? undefined : matchingKey(credentials.keys, ctx.key);
      if (credentials === undefined || key === undefined) return refused(`unknown ${ctx.key.algo} key`);
      if (ctx.signature === undefined || ctx.blob === undefined) return { accepted: false, reason: 'key-ok' };
      if (!verifySignature(key, ctx.blob, ctx.signature, ctx.hashAlgo)) return refused('bad signature');
      return { accepted: true, credentials };
    }
    case 'password': {
      if (credentials?.passwordHash == null) return refused('password sign-in not enabled for this user');
      if (!(await verifyPassword(ctx.password, credentials.passwordHash))) return refused('wrong password');
      return { accepted: true, credentials };
    }
    default:
      return refused(`method ${ctx.method} not supported`);
  }
}
