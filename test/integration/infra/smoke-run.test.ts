/**
 * The smoke test's runner against doors made up here: a door passes once its ledger row is final and
 * loaded, fails on any other verdict or refusal, and no door takes longer than its deadline, whether its
 * row never settles or it never answers. These wait on real (short) time, so they are not unit tests.
 */
import { describe, expect, it } from 'vitest';
import { absentDoor, type Door, type LedgerRow, notDeployed, SmokeError } from '../../../infra/smoke/door.js';
import { exitCode } from '../../../infra/smoke/report.js';
import { runDoors } from '../../../infra/smoke/run.js';

const row = (status: string, extra: Partial<LedgerRow> = {}): LedgerRow => ({
  id: '01a2',
  status,
  rowsLoaded: status === 'loaded' ? 1 : 0,
  rowsRejected: 0,
  source: 'upload:///orders/x.csv',
  ...extra,
});

/** A door whose ledger shows `statuses` one look after another (the last one from then on). */
function fakeDoor(id: Door['id'], statuses: Array<string | undefined>, send?: () => Promise<void>): Door {
  let look = 0;
  return {
    id,
    async send() {
      await send?.();
      return { reference: `ref-${id}` };
    },
    async ledgerRow() {
      const status = statuses[Math.min(look++, statuses.length - 1)];
      return status === undefined ? undefined : row(status);
    },
  };
}

const file = () => ({ name: 'orders/x.csv', body: Buffer.from('x') });

describe('running the doors', () => {
  it('passes a door once its row is loaded, and fails one rejected, one refused and one never final', async () => {
    const started = Date.now();
    const results = await runDoors(
      [
        fakeDoor('s3', [undefined, 'processing', 'loaded']),
        fakeDoor('api', ['rejected']),
        fakeDoor('server', ['queued']),
        fakeDoor('sftp', ['loaded'], async () => {
          throw new SmokeError('HTTP 413 too_large');
        }),
      ],
      file,
      { timeoutMs: 400, pollMs: 20 },
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(results.map((one) => one.outcome)).toEqual(['pass', 'fail', 'fail', 'fail']);
    expect(results[0]?.detail).toMatch(
      /^loaded \(1 row loaded; ingestion 01a2, upload:\/\/\/orders\/x\.csv\)$/,
    );
    expect(results[0]?.sendMs).toBeTypeOf('number');
    expect(results[1]?.detail).toMatch(/^rejected /);
    expect(results[2]?.detail).toBe('still queued after 0.4 s for ref-server');
    expect(results[3]).toMatchObject({ outcome: 'fail', detail: 'HTTP 413 too_large' });
    expect(results[3]?.sendMs).toBeUndefined();
  });

  it('gives a door that hangs no more than its deadline', async () => {
    const hanging: Door = {
      id: 'server',
      send: (_file, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
      ledgerRow: async () => undefined,
    };
    const [result] = await runDoors([hanging], file, { timeoutMs: 200, pollMs: 20 });
    expect(result).toMatchObject({ outcome: 'fail', detail: 'no answer within 0.2 s (aborted)' });
  });
});

describe('a run of the absent and the passing', () => {
  it('counts an absent door as not tried, and passes with one door that loaded', async () => {
    const absent = absentDoor(
      'sftp',
      notDeployed('no SFTP load balancer: InletServer is not deployed (shape=serverless)'),
    );
    const results = await runDoors([fakeDoor('s3', ['loaded']), absent], file, {
      timeoutMs: 200,
      pollMs: 20,
    });
    expect(results.map((one) => one.outcome)).toEqual(['pass', 'not deployed']);
    expect(exitCode(results)).toBe(0);
  });
});
