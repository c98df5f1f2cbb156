/**
 * The `ebs` provider: snapshots of the spool's EBS volume through the EC2 API.
 *
 * - The volume: INLET_SNAPSHOT_VOLUME_ID, else found from the instance (IMDSv2 instance id, then
 *   DescribeVolumes by attachment): the attached volume tagged `inlet:spool=true`, else the one attached
 *   volume that is not the root device.
 * - `create`: CreateSnapshot with its tags in TagSpecifications (`inlet:managed=true`, `inlet:volume`,
 *   `inlet:reason`, `Name`), applied by EC2 in the same call, so no crash can leave an untagged snapshot
 *   behind; then DescribeSnapshots until it is `completed`, waiting 15 s, doubling up to 2 min, for at
 *   most 2 hours. An optional intake freeze is held only until CreateSnapshot answers: the snapshot's point
 *   in time is the call, and EC2 copies the blocks afterwards on its own.
 * - `list`: DescribeSnapshots filtered by those tags (every page, by NextToken). Snapshots of the volume
 *   that carry Inlet's description but not its tags (an older Inlet that tagged after creating, or a
 *   process that died in between) are adopted: tagged with CreateTags and listed.
 * - `prune`: the retention planner over completed snapshots; DeleteSnapshot for the rest.
 * - `verify` checks that EC2 reports the snapshot completed; `restore` is a new volume, made with EC2.
 */
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandInput,
  DescribeVolumesCommand,
  type EC2Client,
  type Snapshot,
  type Tag,
  type Volume,
} from '@aws-sdk/client-ec2';
import { UsageError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { SnapshotError, throwIfAborted } from '../errors.js';
import type {
  CreateOptions,
  IntakeFreeze,
  PruneOptions,
  PruneReport,
  RestoreReport,
  SnapshotProvider,
  SnapshotSummary,
  VerifyReport,
} from '../provider.js';
import { planRetention, type RetentionRules } from '../retention.js';
import type { ImdsClient } from './imds.js';

export const TAG_MANAGED = 'inlet:managed';
export const TAG_VOLUME = 'inlet:volume';
export const TAG_REASON = 'inlet:reason';
export const TAG_SPOOL = 'inlet:spool';
export const DESCRIPTION_PREFIX = 'Inlet snapshot of spool volume';

export interface WaitOptions {
  /** @default 15 s */
  readonly initialDelayMs?: number;
  /** @default 2 min */
  readonly maxDelayMs?: number;
  /** @default 2 hours */
  readonly timeoutMs?: number;
}

export interface EbsProviderOptions {
  readonly client: EC2Client;
  /** INLET_SNAPSHOT_VOLUME_ID; unset = discovered through `imds`. */
  readonly volumeId?: string;
  readonly imds?: ImdsClient;
  readonly freeze?: IntakeFreeze;
  readonly wait?: WaitOptions;
  /** Injected by tests to wait without waiting. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
  readonly logger?: Logger;
}

const GIB = 1024 ** 3;

export class EbsProvider implements SnapshotProvider {
  readonly kind = 'ebs' as const;
  private volume: Promise<string> | undefined;
  private readonly client: EC2Client;

  constructor(private readonly options: EbsProviderOptions) {
    this.client = options.client;
  }

  get target(): string {
    return `ebs:${this.options.volumeId ?? 'the spool volume of this instance'}`;
  }

  /** The spool volume's id, discovered once. */
  volumeId(): Promise<string> {
    if (this.volume === undefined) {
      const discovering = this.discoverVolume();
      this.volume = discovering;
      // A failed discovery (IMDS briefly unreachable) is tried again next time.
      discovering.catch(() => {
        if (this.volume === discovering) this.volume = undefined;
      });
    }
    return this.volume;
  }

  async create(options: CreateOptions = {}): Promise<SnapshotSummary> {
    const volumeId = await this.volumeId();
    const reason = options.reason ?? 'manual';
    const freeze = this.options.freeze;
    await freeze?.freeze();
    let created: Snapshot;
    try {
      created = await this.call('CreateSnapshot', () =>
        this.client.send(
          new CreateSnapshotCommand({
            VolumeId: volumeId,
            Description: `${DESCRIPTION_PREFIX} ${volumeId} (${reason})`,
            TagSpecifications: [
              {
                ResourceType: 'snapshot',
                Tags: [...inletTags(volumeId, reason), { Key: 'Name', Value: `inlet-spool ${volumeId}` }],
              },
            ],
          }),
        ),
      );
    } finally {
      await freeze?.thaw();
    }
    const id = created.SnapshotId;
    if (id === undefined)
      throw new SnapshotError('ebs_failed', 'CreateSnapshot answered without a snapshot id.');
    this.options.logger?.info('EBS snapshot started', { id, volumeId, reason });
    const done = await this.waitForCompletion(id, options.signal);
    this.options.logger?.info('EBS snapshot completed', { id, volumeId });
    return toSummary(done);
  }

  /** Polls DescribeSnapshots with exponential backoff until the snapshot completes, fails or time runs out. */
  async waitForCompletion(id: string, signal?: AbortSignal): Promise<Snapshot> {
    const wait = this.options.wait ?? {};
    const now = this.options.now ?? Date.now;
    const sleep = this.options.sleep ?? abortableSleep;
    const deadline = now() + (wait.timeoutMs ?? 2 * 3600_000);
    let delay = wait.initialDelayMs ?? 15_000;
    for (;;) {
      throwIfAborted(signal, `waiting for EBS snapshot ${id}`);
      const snapshot = await this.describe(id);
      if (snapshot === undefined) {
        throw new SnapshotError(
          'snapshot_not_found',
          `EBS snapshot ${id} disappeared while it was being made.`,
        );
      }
      if (snapshot.State === 'completed') return snapshot;
      if (snapshot.State === 'error') {
        throw new SnapshotError(
          'ebs_failed',
          `EBS snapshot ${id} failed: ${snapshot.StateMessage ?? 'EC2 gave no reason'}.`,
        );
      }
      if (now() + delay > deadline) {
        throw new SnapshotError(
          'ebs_timeout',
          `EBS snapshot ${id} is still ${snapshot.State ?? 'pending'} (${snapshot.Progress ?? '?'}) after ` +
            `${Math.round((wait.timeoutMs ?? 2 * 3600_000) / 60_000)} minutes. EC2 goes on making it: ` +
            'inlet snapshot list shows it once it is completed.',
        );
      }
      await sleep(delay, signal);
      delay = Math.min(delay * 2, wait.maxDelayMs ?? 120_000);
    }
  }

  async list(): Promise<SnapshotSummary[]> {
    return (await this.snapshots()).map(toSummary);
  }

  async verify(id: string): Promise<VerifyReport> {
    const snapshot = await this.describe(id);
    if (snapshot === undefined || tagOf(snapshot, TAG_MANAGED) !== 'true') {
      throw new SnapshotError(
        'snapshot_not_found',
        `there is no Inlet EBS snapshot ${id}; list them with: inlet snapshot list`,
      );
    }
    if (snapshot.State !== 'completed') {
      throw new SnapshotError(
        'verify_failed',
        `EBS snapshot ${id} is ${snapshot.State ?? 'in an unknown state'}` +
          (snapshot.State === 'error'
            ? `: ${snapshot.StateMessage ?? 'EC2 gave no reason'}`
            : ` (${snapshot.Progress ?? '?'})`),
      );
    }
    return { id, files: 0, bytes: toSummary(snapshot).bytes, chunks: 0 };
  }

  async restore(id: string): Promise<RestoreReport> {
    throw new UsageError(
      'not_supported',
      `an EBS snapshot is restored as a new volume, not into a directory: aws ec2 create-volume --snapshot-id ${id} ` +
        "--availability-zone <the instance's zone>, then attach it and mount it as the spool (INLET_SPOOL_DIR).",
    );
  }

  async prune(rules: RetentionRules, options: PruneOptions = {}): Promise<PruneReport> {
    const all = await this.snapshots();
    // Pending and failed snapshots are neither counted nor deleted: the next run sees them completed.
    const completed = all.filter((s) => s.State === 'completed').map((s) => ({ ...toSummary(s), raw: s }));
    const plan = planRetention(completed, rules);
    const deleted: SnapshotSummary[] = [];
    const kept: SnapshotSummary[] = plan.keep.map((k) => strip(k.snapshot));
    for (const doomed of plan.delete) {
      if (!options.dryRun && !(await this.deleteSnapshot(doomed.id))) {
        kept.push(strip(doomed));
        continue;
      }
      deleted.push(strip(doomed));
    }
    const byTime = (a: SnapshotSummary, b: SnapshotSummary) => a.createdAt.getTime() - b.createdAt.getTime();
    return { kept: kept.sort(byTime), deleted: deleted.sort(byTime), chunksDeleted: 0, bytesFreed: 0 };
  }

  close(): void {
    this.client.destroy();
  }

  /** Every Inlet snapshot of the volume, oldest first, after adopting untagged ones. */
  private async snapshots(): Promise<Snapshot[]> {
    const volumeId = await this.volumeId();
    const managed = await this.describeAll({
      OwnerIds: ['self'],
      Filters: [
        { Name: `tag:${TAG_MANAGED}`, Values: ['true'] },
        { Name: `tag:${TAG_VOLUME}`, Values: [volumeId] },
      ],
    });
    const byDescription = await this.describeAll({
      OwnerIds: ['self'],
      Filters: [
        { Name: 'volume-id', Values: [volumeId] },
        { Name: 'description', Values: [`${DESCRIPTION_PREFIX} *`] },
      ],
    });
    const known = new Set(managed.map((s) => s.SnapshotId));
    const strays = byDescription.filter((s) => s.SnapshotId !== undefined && !known.has(s.SnapshotId));
    if (strays.length > 0) {
      const tags = inletTags(volumeId, 'adopted');
      await this.call('CreateTags', () =>
        this.client.send(
          new CreateTagsCommand({ Resources: strays.map((s) => s.SnapshotId as string), Tags: tags }),
        ),
      );
      this.options.logger?.warn('adopted EBS snapshots made by Inlet that had lost their tags', {
        ids: strays.map((s) => s.SnapshotId),
      });
      for (const stray of strays) managed.push({ ...stray, Tags: [...(stray.Tags ?? []), ...tags] });
    }
    return managed.sort((a, b) => (a.StartTime?.getTime() ?? 0) - (b.StartTime?.getTime() ?? 0));
  }

  private async describeAll(input: DescribeSnapshotsCommandInput): Promise<Snapshot[]> {
    const all: Snapshot[] = [];
    let token: string | undefined;
    // Bounded: 1,000 pages of up to 1,000 snapshots is far past any account's limit.
    for (let page = 0; page < 1000; page++) {
      const out = await this.call('DescribeSnapshots', () =>
        this.client.send(new DescribeSnapshotsCommand({ ...input, ...(token ? { NextToken: token } : {}) })),
      );
      all.push(...(out.Snapshots ?? []));
      token = out.NextToken || undefined;
      if (token === undefined) return all;
    }
    throw new SnapshotError('ebs_failed', 'DescribeSnapshots kept answering with another page.');
  }

  private async describe(id: string): Promise<Snapshot | undefined> {
    try {
      const out = await this.client.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
      return out.Snapshots?.[0];
    } catch (error) {
      if (
        errorName(error) === 'InvalidSnapshot.NotFound' ||
        errorName(error) === 'InvalidSnapshotID.Malformed'
      ) {
        return undefined;
      }
      throw ebsError('DescribeSnapshots', error);
    }
  }

  /** True once deleted (or already gone); false when EC2 keeps it because something still uses it. */
  private async deleteSnapshot(id: string): Promise<boolean> {
    try {
      await this.client.send(new DeleteSnapshotCommand({ SnapshotId: id }));
      this.options.logger?.info('EBS snapshot deleted by retention', { id });
      return true;
    } catch (error) {
      if (errorName(error) === 'InvalidSnapshot.NotFound') return true;
      if (errorName(error) === 'InvalidSnapshot.InUse') {
        this.options.logger?.warn('EBS snapshot kept: an AMI or another resource still uses it', { id });
        return false;
      }
      throw ebsError('DeleteSnapshot', error);
    }
  }

  private async discoverVolume(): Promise<string> {
    const explicit = this.options.volumeId?.trim();
    if (explicit) {
      if (!/^vol-[0-9a-f]{8,17}$/.test(explicit)) {
        throw new UsageError(
          'invalid_setting',
          `INLET_SNAPSHOT_VOLUME_ID "${explicit}" is not an EBS volume id (vol-…).`,
        );
      }
      return explicit;
    }
    const imds = this.options.imds;
    if (imds === undefined) {
      throw new SnapshotError('volume_not_found', 'no spool volume given: set INLET_SNAPSHOT_VOLUME_ID.');
    }
    const instanceId = await imds.instanceId();
    const volumes: Volume[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100; page++) {
      const out = await this.call('DescribeVolumes', () =>
        this.client.send(
          new DescribeVolumesCommand({
            Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }],
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      volumes.push(...(out.Volumes ?? []));
      token = out.NextToken || undefined;
      if (token === undefined) break;
    }
    const tagged = volumes.filter((v) => tagOf(v, TAG_SPOOL) === 'true');
    if (tagged.length === 1) return tagged[0]?.VolumeId as string;
    const root = normaliseDevice(await imds.get('block-device-mapping/root').catch(() => ''));
    const others = volumes.filter(
      (v) =>
        !(v.Attachments ?? []).some((a) => a.InstanceId === instanceId && normaliseDevice(a.Device) === root),
    );
    if (tagged.length === 0 && others.length === 1) return others[0]?.VolumeId as string;
    const candidates = (tagged.length > 1 ? tagged : volumes)
      .map((v) => `${v.VolumeId} (${(v.Attachments ?? []).map((a) => a.Device).join(', ')})`)
      .join(', ');
    throw new SnapshotError(
      'volume_not_found',
      `cannot tell which volume of ${instanceId} is the spool: ${candidates || 'none is attached'}. ` +
        `Set INLET_SNAPSHOT_VOLUME_ID, or tag the spool volume ${TAG_SPOOL}=true.`,
    );
  }

  private async call<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw ebsError(action, error);
    }
  }
}

function inletTags(volumeId: string, reason: string): Tag[] {
  return [
    { Key: TAG_MANAGED, Value: 'true' },
    { Key: TAG_VOLUME, Value: volumeId },
    { Key: TAG_REASON, Value: reason },
  ];
}

function tagOf(resource: { Tags?: Tag[] | undefined }, key: string): string | undefined {
  return resource.Tags?.find((t) => t.Key === key)?.Value;
}

function toSummary(snapshot: Snapshot): SnapshotSummary {
  return {
    id: snapshot.SnapshotId ?? '',
    createdAt: snapshot.StartTime ?? new Date(0),
    provider: 'ebs',
    // Block-level: EC2 reports neither files nor the bytes a snapshot added (see the README).
    files: 0,
    bytes: snapshot.FullSnapshotSizeInBytes ?? (snapshot.VolumeSize ?? 0) * GIB,
    bytesUploaded: 0,
  };
}

function strip<T extends SnapshotSummary & { raw: Snapshot }>(value: T): SnapshotSummary {
  const { raw: _raw, ...summary } = value;
  return summary;
}

/** `/dev/sda1` and `sda1` name one device; IMDS answers the root as either. */
function normaliseDevice(device: string | undefined): string {
  return (device ?? '').trim().replace(/^\/dev\//, '');
}

function errorName(error: unknown): string {
  return (
    (error as { name?: string; Code?: string } | undefined)?.Code ?? (error as Error | undefined)?.name ?? ''
  );
}

function ebsError(action: string, error: unknown): SnapshotError {
  if (error instanceof SnapshotError) return error;
  const name = errorName(error);
  const hint =
    name === 'UnauthorizedOperation' || name === 'AccessDenied'
      ? `: the instance role needs ec2:${action}${action === 'CreateSnapshot' ? ' and ec2:CreateTags on snapshots' : ''}`
      : name === 'CredentialsProviderError'
        ? ': no AWS credentials (run on the instance with its role, or set AWS_PROFILE)'
        : '';
  return new SnapshotError(
    'ebs_failed',
    `EC2 ${action} failed: ${name || 'Error'}: ${(error as Error | undefined)?.message ?? String(error)}${hint}`,
    { cause: error },
  );
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
