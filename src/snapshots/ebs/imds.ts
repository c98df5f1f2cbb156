/**
 * A minimal EC2 instance metadata client, IMDSv2 only (the instance requires it: docs/deploy-aws.md): `PUT
 * /latest/api/token` with a TTL header gives a session token, sent as `X-aws-ec2-metadata-token` on every
 * `GET /latest/meta-data/…`. A 401 means the token expired: one new token, one retry. Every request has a
 * short timeout, so a host that is not EC2 fails fast with a message saying what to set instead.
 */
import { SnapshotError } from '../errors.js';

export interface ImdsOptions {
  /** @default http://169.254.169.254 (the settings pass AWS_EC2_METADATA_SERVICE_ENDPOINT when set) */
  readonly endpoint?: string;
  /** Per request. @default 1000 ms */
  readonly timeoutMs?: number;
  /** Token lifetime asked for. @default 21600 s (6 hours, the maximum) */
  readonly tokenTtlSeconds?: number;
}

const DEFAULT_ENDPOINT = 'http://169.254.169.254';

export class ImdsClient {
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly ttl: number;
  private token: { value: string; expires: number } | undefined;

  constructor(options: ImdsOptions = {}) {
    this.endpoint = (options.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.ttl = options.tokenTtlSeconds ?? 21_600;
  }

  instanceId(): Promise<string> {
    return this.get('instance-id');
  }

  region(): Promise<string> {
    return this.get('placement/region');
  }

  /** A path under /latest/meta-data/, e.g. `instance-id`. */
  async get(item: string): Promise<string> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await this.sessionToken(attempt > 0);
      const response = await this.request('GET', `/latest/meta-data/${item}`, {
        'x-aws-ec2-metadata-token': token,
      });
      if (response.status === 401) continue;
      if (response.status !== 200) {
        throw unavailable(this.endpoint, `GET ${item} answered ${response.status}`);
      }
      return (await response.text()).trim();
    }
    throw unavailable(this.endpoint, `GET ${item} refused the session token twice`);
  }

  private async sessionToken(renew: boolean): Promise<string> {
    if (!renew && this.token !== undefined && this.token.expires > Date.now()) return this.token.value;
    const response = await this.request('PUT', '/latest/api/token', {
      'x-aws-ec2-metadata-token-ttl-seconds': String(this.ttl),
    });
    if (response.status !== 200) {
      throw unavailable(this.endpoint, `the token request answered ${response.status}`);
    }
    const value = (await response.text()).trim();
    // Renewed a minute early, so a token never expires between its check and its use.
    this.token = { value, expires: Date.now() + Math.max(0, this.ttl - 60) * 1000 };
    return value;
  }

  private async request(
    method: string,
    pathname: string,
    headers: Record<string, string>,
  ): Promise<Response> {
    try {
      return await fetch(`${this.endpoint}${pathname}`, {
        method,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw unavailable(this.endpoint, (error as Error).message, error);
    }
  }
}

function unavailable(endpoint: string, why: string, cause?: unknown): SnapshotError {
  return new SnapshotError(
    'imds_unavailable',
    `cannot read the EC2 instance metadata at ${endpoint} (${why}). Not on EC2, or the hop limit is too low ` +
      'for a container? Set INLET_SNAPSHOT_VOLUME_ID and AWS_REGION, or use INLET_SNAPSHOT_PROVIDER=archive.',
    cause === undefined ? {} : { cause },
  );
}
