/**
 * The stored tokens an upload service has checked, kept in memory so that a request is not a database
 * lookup (measured: 10 to 25% more CPU per small upload). Revocation still takes effect at once: the cache
 * is used only while this service listens on `inlet_tokens`, where migration 009's trigger announces every
 * change to a token (revoked, expired, rescoped, deleted) when it commits, and a change drops that token
 * here. Listening lost means no cache until it is back, every request reading the database as before; and
 * an entry older than the TTL is read again, a safety net for a notification that never came.
 */
import pg from 'pg';
import type { Logger } from '../observability/logger.js';

/** A stored token as the check needs it: whether it is still valid is decided on every use. */
export interface CachedToken {
  readonly id: string;
  readonly name: string;
  readonly pipelines: string[] | null;
  readonly expiresAt: Date | null;
  /** When this service last wrote the token's last_used_at (or read it), for the once-a-minute refresh. */
  lastUsedAt: number;
}

export interface TokenCacheOptions {
  logger: Logger;
  /** How long an entry is trusted without a notification; default 60 s. */
  ttlMs?: number;
  /** Wait before listening again after the connection was lost; default 1 s. */
  reconnectMs?: number;
}

const CHANNEL = 'inlet_tokens';
/** Enough for every token a deployment has; past it, the oldest entry goes. */
const MAX_ENTRIES = 10_000;

export class TokenCache {
  private readonly entries = new Map<string, { token: CachedToken; at: number }>();
  private readonly ttlMs: number;
  private readonly reconnectMs: number;
  private listener: pg.Client | undefined;
  private listening = false;
  /** Bumped by every change heard and every loss of the channel: a lookup begun before one is not cached. */
  private generation = 0;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly options: TokenCacheOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.reconnectMs = options.reconnectMs ?? 1000;
  }

  /** Starts listening; resolves once it does, or once it failed (then retried in the background, uncached meanwhile). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.drop();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Whether entries may be used now. */
  get active(): boolean {
    return this.listening;
  }

  /** The token with this hash, if checked lately and nothing about it changed since. */
  get(hash: string): CachedToken | undefined {
    if (!this.listening) return undefined;
    const entry = this.entries.get(hash);
    if (entry === undefined) return undefined;
    if (Date.now() - entry.at > this.ttlMs) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.token;
  }

  /** The generation to pass to `put` for a lookup about to start. */
  get version(): number {
    return this.generation;
  }

  /** Keeps a valid token read from the database, unless something changed since the lookup began. */
  put(hash: string, token: CachedToken, version: number): void {
    if (!this.listening || version !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(hash, { token, at: Date.now() });
  }

  private drop(hash?: string): void {
    this.generation++;
    if (hash === undefined || hash === '') this.entries.clear();
    else this.entries.delete(hash);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ ...this.connection, application_name: 'inlet-token-cache' });
    const lost = (error?: Error) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listening = false;
      this.drop();
      if (this.stopped) return;
      this.options.logger.warn(
        'stopped hearing token changes; checking every token in the database until back',
        {
          error,
        },
      );
      client.end().catch(() => undefined);
      this.retry = setTimeout(() => void this.listen(), this.reconnectMs);
      this.retry.unref();
    };
    client.on('notification', (message) => {
      if (message.channel === CHANNEL) this.drop(message.payload);
    });
    client.on('error', lost);
    client.on('end', () => lost());
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.listener !== client) return;
      // Anything cached before (there is nothing, or it was dropped on the loss) may have changed unheard.
      this.drop();
      this.listening = true;
    } catch (error) {
      lost(error as Error);
    }
  }
}
