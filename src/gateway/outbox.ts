import fs from 'node:fs/promises';
import path from 'node:path';
import type { S3EventRecord } from 'aws-lambda';
import { removeDurably, writeFileDurably } from '../storage/durable.js';

/** An event record on disk, with the real key so a replay can check the object it announces. */
export interface OutboxEntry {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly record: S3EventRecord;
}

/**
 * Event records written to disk before their object commits and removed once delivered, so a crash
 * between an object's commit and its delivery cannot lose the event: the next start replays what is
 * left (at-least-once across restarts). Records the handler kept refusing go to `dead/`, like a
 * dead-letter queue, instead of replaying forever.
 */
export class EventOutbox {
  private readonly pendingDir: string;
  private readonly deadDir: string;
  private readonly tmpDir: string;

  constructor(dataDir: string) {
    const root = path.join(dataDir, '.events');
    this.pendingDir = path.join(root, 'pending');
    this.deadDir = path.join(root, 'dead');
    this.tmpDir = path.join(root, 'tmp');
  }

  /** Where dead letters are kept: moving a file from here to `pendingDirectory` replays it at the next start. */
  get deadDirectory(): string {
    return this.deadDir;
  }

  get pendingDirectory(): string {
    return this.pendingDir;
  }

  /**
   * The pending records, oldest first. With `replayDead`, the dead letters are moved back to pending first
   * (a file name is the record's sequencer, so they take their place in creation order).
   */
  async open(options: { replayDead?: boolean } = {}): Promise<OutboxEntry[]> {
    await fs.rm(this.tmpDir, { recursive: true, force: true });
    for (const dir of [this.pendingDir, this.deadDir, this.tmpDir]) await fs.mkdir(dir, { recursive: true });
    if (options.replayDead === true) {
      for (const name of await this.deadLetters()) {
        await fs.rename(path.join(this.deadDir, name), path.join(this.pendingDir, name));
      }
    }
    // Sequencers are fixed-width and increasing, so file-name order is creation order.
    const names = (await fs.readdir(this.pendingDir)).filter((name) => name.endsWith('.json')).sort();
    const entries: OutboxEntry[] = [];
    for (const name of names) {
      entries.push(JSON.parse(await fs.readFile(path.join(this.pendingDir, name), 'utf8')) as OutboxEntry);
    }
    return entries;
  }

  save(entry: OutboxEntry): Promise<void> {
    return writeFileDurably(this.tmpDir, this.fileOf(entry, this.pendingDir), JSON.stringify(entry));
  }

  async delivered(entry: OutboxEntry): Promise<void> {
    await removeDurably(this.fileOf(entry, this.pendingDir));
  }

  /** The file names of the dead letters, oldest first. */
  async deadLetters(): Promise<string[]> {
    const names = await fs.readdir(this.deadDir).catch(() => [] as string[]);
    return names.filter((name) => name.endsWith('.json')).sort();
  }

  async dead(entry: OutboxEntry): Promise<void> {
    await fs.rename(this.fileOf(entry, this.pendingDir), this.fileOf(entry, this.deadDir));
  }

  private fileOf(entry: OutboxEntry, dir: string): string {
    return path.join(dir, `${entry.record.s3.object.sequencer}.json`);
  }
}
