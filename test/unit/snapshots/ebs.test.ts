/**
 * The EBS provider against the real EC2 client with its transport stubbed: every request is captured (EC2's
 * query protocol: a form-encoded POST) and answered with the XML shapes AWS documents for the EC2 API
 * (DescribeSnapshotsResponse/snapshotSet/item…). IMDSv2 runs against a loopback HTTP stub.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { ImdsClient } from '../../../src/snapshots/ebs/imds.js';
import { EbsProvider, type EbsProviderOptions } from '../../../src/snapshots/ebs/provider.js';
import { SnapshotError } from '../../../src/snapshots/errors.js';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const VOLUME = 'vol-0123456789abcdef0';

interface Captured {
  action: string;
  params: URLSearchParams;
}

type Responder = (request: Captured, nth: number) => { status?: number; body: string };

interface SnapshotXml {
  id: string;
  state?: string;
  start?: string;
  description?: string;
  tags?: Record<string, string>;
  progress?: string;
  message?: string;
}

function snapshotXml(s: SnapshotXml): string {
  const tags = Object.entries(s.tags ?? {})
    .map(([k, v]) => `<item><key>${k}</key><value>${v}</value></item>`)
    .join('');
  return (
    `<snapshotId>${s.id}</snapshotId><volumeId>${VOLUME}</volumeId><status>${s.state ?? 'completed'}</status>` +
    `<startTime>${s.start ?? '2026-01-01T00:00:00.000Z'}</startTime><progress>${s.progress ?? '100%'}</progress>` +
    `<ownerId>111122223333</ownerId><volumeSize>8</volumeSize><description>${s.description ?? ''}</description>` +
    `<encrypted>true</encrypted>${s.message ? `<statusMessage>${s.message}</statusMessage>` : ''}<tagSet>${tags}</tagSet>`
  );
}

const describeXml = (items: SnapshotXml[], nextToken?: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><DescribeSnapshotsResponse xmlns="${NS}"><requestId>r</requestId>` +
  `<snapshotSet>${items.map((s) => `<item>${snapshotXml(s)}</item>`).join('')}</snapshotSet>` +
  `${nextToken ? `<nextToken>${nextToken}</nextToken>` : ''}</DescribeSnapshotsResponse>`;

const returnTrue = (action: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${NS}"><requestId>r</requestId><return>true</return></${action}Response>`;

const errorXml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>r</RequestID></Response>`;

const MANAGED = { 'inlet:managed': 'true', 'inlet:volume': VOLUME, 'inlet:reason': 'scheduled' };

/** An EC2 client whose transport answers from `respond` and records every request. */
function stubbedEc2(respond: Responder): { client: EC2Client; requests: Captured[] } {
  const requests: Captured[] = [];
  const counts = new Map<string, number>();
  const client = new EC2Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { body?: unknown; method: string; headers: Record<string, string> }) {
        expect(request.method).toBe('POST');
        expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
        const params = new URLSearchParams(String(request.body));
        const captured = { action: params.get('Action') ?? '', params };
        requests.push(captured);
        const nth = counts.get(captured.action) ?? 0;
        counts.set(captured.action, nth + 1);
        const answer = respond(captured, nth);
        return {
          response: {
            statusCode: answer.status ?? 200,
            headers: { 'content-type': 'text/xml;charset=UTF-8' },
            body: Buffer.from(answer.body),
          },
        };
      },
    } as never,
  });
  return { client, requests };
}

function provider(respond: Responder, extra: Partial<EbsProviderOptions> = {}) {
  const { client, requests } = stubbedEc2(respond);
  const sleeps: number[] = [];
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const ebs = new EbsProvider({
    client,
    volumeId: VOLUME,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    wait: { initialDelayMs: 1000, maxDelayMs: 4000, timeoutMs: 60_000 },
    ...extra,
  });
  return { ebs, requests, sleeps };
}

/** Tags of a query request: `prefix.N.Key` / `prefix.N.Value` pairs as an object. */
function tagsOf(params: URLSearchParams, prefix: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 1; params.has(`${prefix}.${i}.Key`); i++) {
    tags[params.get(`${prefix}.${i}.Key`) as string] = params.get(`${prefix}.${i}.Value`) as string;
  }
  return tags;
}

function filtersOf(params: URLSearchParams): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
    const values: string[] = [];
    for (let j = 1; params.has(`Filter.${i}.Value.${j}`); j++)
      values.push(params.get(`Filter.${i}.Value.${j}`) as string);
    filters[params.get(`Filter.${i}.Name`) as string] = values;
  }
  return filters;
}

describe('EbsProvider.create', () => {
  it('tags the snapshot at creation, freezes intake only around CreateSnapshot, and waits with backoff', async () => {
    const events: string[] = [];
    const { ebs, requests, sleeps } = provider(
      (request, nth) => {
        events.push(request.action);
        if (request.action === 'CreateSnapshot') {
          return {
            body: `<?xml version="1.0" encoding="UTF-8"?><CreateSnapshotResponse xmlns="${NS}"><requestId>r</requestId>${snapshotXml({ id: 'snap-new', state: 'pending', progress: '0%', tags: MANAGED })}</CreateSnapshotResponse>`,
          };
        }
        const state = nth < 3 ? 'pending' : 'completed';
        return {
          body: describeXml([{ id: 'snap-new', state, tags: MANAGED, start: '2026-01-01T00:00:00.000Z' }]),
        };
      },
      {
        freeze: {
          freeze: async () => {
            events.push('freeze');
          },
          thaw: async () => {
            events.push('thaw');
          },
        },
      },
    );
    const summary = await ebs.create({ reason: 'scheduled' });
    expect(summary).toEqual({
      id: 'snap-new',
      createdAt: new Date('2026-01-01T00:00:00.000Z'),
      provider: 'ebs',
      files: 0,
      bytes: 8 * 1024 ** 3,
      bytesUploaded: 0,
    });
    expect(events.slice(0, 4)).toEqual(['freeze', 'CreateSnapshot', 'thaw', 'DescribeSnapshots']);
    const create = requests[0] as Captured;
    expect(create.params.get('Version')).toBe('2016-11-15');
    expect(create.params.get('VolumeId')).toBe(VOLUME);
    expect(create.params.get('Description')).toBe(`Inlet snapshot of spool volume ${VOLUME} (scheduled)`);
    expect(create.params.get('TagSpecification.1.ResourceType')).toBe('snapshot');
    expect(tagsOf(create.params, 'TagSpecification.1.Tag')).toEqual({
      'inlet:managed': 'true',
      'inlet:volume': VOLUME,
      'inlet:reason': 'scheduled',
      Name: `inlet-spool ${VOLUME}`,
    });
    const polls = requests.filter((r) => r.action === 'DescribeSnapshots');
    expect(polls).toHaveLength(4);
    for (const poll of polls) expect(poll.params.get('SnapshotId.1')).toBe('snap-new');
    // 1 s, doubling, capped at 4 s.
    expect(sleeps).toEqual([1000, 2000, 4000]);
  });

  it('thaws intake even when CreateSnapshot fails, and names the missing permission', async () => {
    const events: string[] = [];
    const { ebs } = provider(
      () => ({ status: 403, body: errorXml('UnauthorizedOperation', 'You are not authorized') }),
      {
        freeze: {
          freeze: async () => void events.push('freeze'),
          thaw: async () => void events.push('thaw'),
        },
      },
    );
    const error = await ebs.create().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).message).toMatch(
      /CreateSnapshot failed: UnauthorizedOperation.*ec2:CreateSnapshot/,
    );
    expect(events).toEqual(['freeze', 'thaw']);
  });

  it('gives up waiting after the timeout, saying the snapshot goes on, with bounded polls', async () => {
    const { ebs, requests } = provider((request) =>
      request.action === 'CreateSnapshot'
        ? {
            body: `<CreateSnapshotResponse xmlns="${NS}">${snapshotXml({ id: 'snap-slow', state: 'pending' })}</CreateSnapshotResponse>`,
          }
        : { body: describeXml([{ id: 'snap-slow', state: 'pending', progress: '42%' }]) },
    );
    const error = await ebs.create().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ebs_timeout' });
    expect((error as Error).message).toMatch(/snap-slow is still pending \(42%\).*inlet snapshot list/);
    // 60 s at 1, 2, 4, 4, … seconds: about 16 polls, never unbounded.
    expect(requests.filter((r) => r.action === 'DescribeSnapshots').length).toBeLessThan(20);
  });

  it('reports a snapshot that EC2 failed, with its reason', async () => {
    const { ebs } = provider((request) =>
      request.action === 'CreateSnapshot'
        ? {
            body: `<CreateSnapshotResponse xmlns="${NS}">${snapshotXml({ id: 'snap-bad', state: 'pending' })}</CreateSnapshotResponse>`,
          }
        : { body: describeXml([{ id: 'snap-bad', state: 'error', message: 'internal failure' }]) },
    );
    await expect(ebs.create()).rejects.toThrow(/EBS snapshot snap-bad failed: internal failure/);
  });
});

describe('EbsProvider.list and prune', () => {
  it("filters by Inlet tags, follows NextToken, and adopts untagged snapshots with Inlet's description", async () => {
    const { ebs, requests } = provider((request) => {
      if (request.action === 'CreateTags') return { body: returnTrue('CreateTags') };
      const filters = filtersOf(request.params);
      if (filters.description !== undefined) {
        return {
          body: describeXml([
            { id: 'snap-a', tags: MANAGED, start: '2026-01-01T01:00:00.000Z' },
            {
              id: 'snap-stray',
              description: `Inlet snapshot of spool volume ${VOLUME} (manual)`,
              start: '2026-01-01T00:30:00.000Z',
            },
          ]),
        };
      }
      if (request.params.get('NextToken') === 'page-2') {
        return { body: describeXml([{ id: 'snap-b', tags: MANAGED, start: '2026-01-01T02:00:00.000Z' }]) };
      }
      return {
        body: describeXml([{ id: 'snap-a', tags: MANAGED, start: '2026-01-01T01:00:00.000Z' }], 'page-2'),
      };
    });
    const listed = await ebs.list();
    expect(listed.map((s) => s.id)).toEqual(['snap-stray', 'snap-a', 'snap-b']);

    const [first, second, byDescription, tag] = requests;
    expect(first?.params.get('Owner.1')).toBe('self');
    expect(filtersOf(first?.params as URLSearchParams)).toEqual({
      'tag:inlet:managed': ['true'],
      'tag:inlet:volume': [VOLUME],
    });
    expect(first?.params.has('NextToken')).toBe(false);
    expect(second?.params.get('NextToken')).toBe('page-2');
    expect(filtersOf(second?.params as URLSearchParams)).toEqual(filtersOf(first?.params as URLSearchParams));
    expect(filtersOf(byDescription?.params as URLSearchParams)).toEqual({
      'volume-id': [VOLUME],
      description: ['Inlet snapshot of spool volume *'],
    });
    expect(tag?.action).toBe('CreateTags');
    expect(tag?.params.get('ResourceId.1')).toBe('snap-stray');
    expect(tag?.params.has('ResourceId.2')).toBe(false);
    expect(tagsOf(tag?.params as URLSearchParams, 'Tag')).toEqual({
      'inlet:managed': 'true',
      'inlet:volume': VOLUME,
      'inlet:reason': 'adopted',
    });
  });

  it('deletes what retention does not keep, leaves pending snapshots alone, and keeps one still in use', async () => {
    const { ebs, requests } = provider((request) => {
      if (request.action === 'DeleteSnapshot') {
        return request.params.get('SnapshotId') === 'snap-1'
          ? { status: 400, body: errorXml('InvalidSnapshot.InUse', 'in use by ami-1') }
          : { body: returnTrue('DeleteSnapshot') };
      }
      if (filtersOf(request.params).description !== undefined) return { body: describeXml([]) };
      return {
        body: describeXml([
          { id: 'snap-1', tags: MANAGED, start: '2026-01-01T01:00:00.000Z' },
          { id: 'snap-2', tags: MANAGED, start: '2026-01-01T02:00:00.000Z' },
          { id: 'snap-3', tags: MANAGED, start: '2026-01-01T03:00:00.000Z' },
          { id: 'snap-4', tags: MANAGED, start: '2026-01-01T04:00:00.000Z', state: 'pending' },
        ]),
      };
    });
    const report = await ebs.prune({ last: 1 });
    expect(
      requests.filter((r) => r.action === 'DeleteSnapshot').map((r) => r.params.get('SnapshotId')),
    ).toEqual(['snap-2', 'snap-1']);
    expect(report.deleted.map((s) => s.id)).toEqual(['snap-2']);
    expect(report.kept.map((s) => s.id)).toEqual(['snap-1', 'snap-3']);

    const dry = await ebs.prune({ last: 1 }, { dryRun: true });
    expect(dry.deleted.map((s) => s.id)).toEqual(['snap-1', 'snap-2']);
    expect(requests.filter((r) => r.action === 'DeleteSnapshot')).toHaveLength(2);
  });

  it('verifies completion, and explains that restore is a new volume', async () => {
    const { ebs } = provider((request) =>
      request.params.get('SnapshotId.1') === 'snap-ok'
        ? { body: describeXml([{ id: 'snap-ok', tags: MANAGED }]) }
        : { status: 400, body: errorXml('InvalidSnapshot.NotFound', 'no such snapshot') },
    );
    await expect(ebs.verify('snap-ok')).resolves.toMatchObject({ id: 'snap-ok', bytes: 8 * 1024 ** 3 });
    await expect(ebs.verify('snap-gone')).rejects.toMatchObject({ code: 'snapshot_not_found' });
    const error = await ebs.restore('snap-ok').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/aws ec2 create-volume --snapshot-id snap-ok/);
  });
});

describe('spool volume discovery through IMDSv2', () => {
  let server: http.Server;
  let endpoint: string;
  const seen: string[] = [];
  let tokens = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === 'PUT' && req.url === '/latest/api/token') {
        if (req.headers['x-aws-ec2-metadata-token-ttl-seconds'] !== '21600') {
          res.writeHead(400).end();
          return;
        }
        tokens++;
        res.writeHead(200).end(`token-${tokens}`);
        return;
      }
      // The first token "expires" after one use, to exercise the renewal.
      if (
        req.headers['x-aws-ec2-metadata-token'] !== `token-${tokens}` ||
        (tokens === 1 && seen.length > 2)
      ) {
        res.writeHead(401).end();
        return;
      }
      const answers: Record<string, string> = {
        '/latest/meta-data/instance-id': 'i-0abc',
        '/latest/meta-data/block-device-mapping/root': '/dev/xvda',
      };
      const answer = answers[req.url ?? ''];
      if (answer === undefined) res.writeHead(404).end();
      else res.writeHead(200).end(answer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const volumeItem = (id: string, device: string, tags: Record<string, string> = {}) =>
    `<item><volumeId>${id}</volumeId><size>20</size><status>in-use</status><attachmentSet><item><volumeId>${id}</volumeId>` +
    `<instanceId>i-0abc</instanceId><device>${device}</device><status>attached</status></item></attachmentSet>` +
    `<tagSet>${Object.entries(tags)
      .map(([k, v]) => `<item><key>${k}</key><value>${v}</value></item>`)
      .join('')}</tagSet></item>`;

  it('asks for a token, reads the instance id with it, and picks the volume that is not the root', async () => {
    const { ebs, requests } = provider(
      () => ({
        body: `<DescribeVolumesResponse xmlns="${NS}"><requestId>r</requestId><volumeSet>${volumeItem('vol-00000000000000001', '/dev/xvda')}${volumeItem('vol-00000000000000002', '/dev/sdf')}</volumeSet></DescribeVolumesResponse>`,
      }),
      {
        volumeId: undefined,
        imds: new ImdsClient({ endpoint, timeoutMs: 2000 }),
      } as Partial<EbsProviderOptions>,
    );
    expect(await ebs.volumeId()).toBe('vol-00000000000000002');
    expect(seen[0]).toBe('PUT /latest/api/token');
    expect(seen[1]).toBe('GET /latest/meta-data/instance-id');
    // The expired token was renewed once and the read retried.
    expect(seen).toContain('GET /latest/meta-data/block-device-mapping/root');
    expect(tokens).toBe(2);
    expect(requests[0]?.action).toBe('DescribeVolumes');
    expect(filtersOf(requests[0]?.params as URLSearchParams)).toEqual({
      'attachment.instance-id': ['i-0abc'],
    });
  });

  it('prefers a volume tagged inlet:spool=true, and says what to set when it cannot tell', async () => {
    const imds = new ImdsClient({ endpoint, timeoutMs: 2000 });
    const tagged = provider(
      () => ({
        body: `<DescribeVolumesResponse xmlns="${NS}"><volumeSet>${volumeItem('vol-00000000000000003', '/dev/sdg', { 'inlet:spool': 'true' })}${volumeItem('vol-00000000000000002', '/dev/sdf')}</volumeSet></DescribeVolumesResponse>`,
      }),
      { volumeId: undefined, imds } as Partial<EbsProviderOptions>,
    );
    expect(await tagged.ebs.volumeId()).toBe('vol-00000000000000003');
    const ambiguous = provider(
      () => ({
        body: `<DescribeVolumesResponse xmlns="${NS}"><volumeSet>${volumeItem('vol-00000000000000004', '/dev/sdg')}${volumeItem('vol-00000000000000002', '/dev/sdf')}</volumeSet></DescribeVolumesResponse>`,
      }),
      { volumeId: undefined, imds } as Partial<EbsProviderOptions>,
    );
    await expect(ambiguous.ebs.volumeId()).rejects.toThrow(
      /INLET_SNAPSHOT_VOLUME_ID, or tag the spool volume inlet:spool=true/,
    );
  });

  it('fails fast with what to set instead when there is no metadata service', async () => {
    const imds = new ImdsClient({ endpoint: 'http://127.0.0.1:9', timeoutMs: 500 });
    await expect(imds.instanceId()).rejects.toThrow(/Set INLET_SNAPSHOT_VOLUME_ID and AWS_REGION/);
  });
});
