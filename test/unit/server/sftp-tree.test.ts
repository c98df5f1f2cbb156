/** The SFTP door's pure parts: the virtual tree's path rules, key matching, the sign-in back-off, doors. */
import { describe, expect, it, vi } from 'vitest';
import { doorOf } from '../../../src/ledger/read.js';
import { matchingKey } from '../../../src/server/sftp/keys.js';
import { sftpUri } from '../../../src/server/sftp/ledger-files.js';
import { FailedSignIns } from '../../../src/server/sftp/sign-in.js';
import { resolvePath } from '../../../src/server/sftp/tree.js';

const PIPELINES = ['orders', 'refunds'];

describe('resolvePath', () => {
  it.each([
    ['/', { place: { kind: 'root' }, path: '/' }],
    ['.', { place: { kind: 'root' }, path: '/' }],
    ['inbound', { place: { kind: 'area', area: 'inbound' }, path: '/inbound' }],
    [
      '//outbound/./orders/',
      { place: { kind: 'folder', area: 'outbound', pipeline: 'orders' }, path: '/outbound/orders' },
    ],
    [
      '/inbound/orders/2026 12 01.csv',
      {
        place: { kind: 'file', area: 'inbound', pipeline: 'orders', name: '2026 12 01.csv' },
        path: '/inbound/orders/2026 12 01.csv',
      },
    ],
  ])('resolves %j', (raw, expected) => {
    expect(resolvePath(raw, PIPELINES)).toEqual(expected);
  });

  it.each([
    ['/inbound/orders/../refunds/x.csv', 'outside'],
    ['..', 'outside'],
    ['/inbound/orders/a\0b.csv', 'outside'],
    [`/inbound/orders/${'x'.repeat(5000)}`, 'outside'],
    ['/inbound/events/x.csv', 'forbidden'],
    ['/outbound/events', 'forbidden'],
    ['/inbound/orders/sub/x.csv', 'forbidden'],
    ['/etc/passwd', 'missing'],
    ['/home', 'missing'],
  ])('refuses %j (%s)', (raw, refused) => {
    expect(resolvePath(raw, PIPELINES)).toMatchObject({ refused });
  });
});

describe('matchingKey', () => {
  const stored = [
    { type: 'ssh-ed25519', blob: Buffer.from('first key').toString('base64') },
    { type: 'ssh-ed25519', blob: Buffer.from('second key').toString('base64') },
  ];
  it('finds the stored key with the same bytes, and none for other bytes or lengths', () => {
    expect(matchingKey(stored, { algo: 'ssh-ed25519', data: Buffer.from('second key') })).toBe(stored[1]);
    expect(matchingKey(stored, { algo: 'ssh-ed25519', data: Buffer.from('second kez') })).toBeUndefined();
    expect(matchingKey(stored, { algo: 'ssh-ed25519', data: Buffer.from('key') })).toBeUndefined();
  });
});

describe('FailedSignIns', () => {
  it('answers slower from the third failure, blocks past the limit, and forgets after the window', () => {
    vi.useFakeTimers();
    try {
      const failures = new FailedSignIns({ windowMs: 60_000, blockAfter: 5 });
      expect(failures.delayMs('10.0.0.1')).toBe(0);
      for (let i = 0; i < 3; i++) failures.record('10.0.0.1');
      expect(failures.delayMs('10.0.0.1')).toBe(250);
      failures.record('10.0.0.1');
      expect(failures.delayMs('10.0.0.1')).toBe(500);
      expect(failures.isBlocked('10.0.0.1')).toBe(false);
      failures.record('10.0.0.1');
      expect(failures.isBlocked('10.0.0.1')).toBe(true);
      expect(failures.isBlocked('10.0.0.2')).toBe(false);
      vi.advanceTimersByTime(60_001);
      expect(failures.isBlocked('10.0.0.1')).toBe(false);
      expect(failures.delayMs('10.0.0.1')).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the door of a source URI', () => {
  it('names every door, and the SFTP user', () => {
    expect(doorOf('upload:///orders.csv')).toEqual({ door: 'http' });
    expect(doorOf('s3://bucket/key.csv')).toEqual({ door: 's3' });
    expect(doorOf('file:///data/orders.csv')).toEqual({ door: 'cli' });
    expect(doorOf(sftpUri('acme', 'orders', 'a b.csv'))).toEqual({ door: 'sftp', sftpUser: 'acme' });
    expect(sftpUri('acme', 'orders', 'a b.csv')).toBe('sftp://acme/inbound/orders/a%20b.csv');
    expect(doorOf('spool:///failed/x')).toEqual({ door: 'other' });
  });
});
