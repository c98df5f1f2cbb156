/**
 * What each door sends: by default one order for the example config's `orders` pipeline
 * (examples/inlet.config.yaml), with an order id no real order has (9, the run's time, the door) and
 * the customer "Inlet smoke test", under a name unique to the run and the door; or a file of the
 * user's own (--file), under a name their pipelines match (--name).
 */
import { DOOR_IDS, type DoorId, type SmokeFile } from './door.js';

export const DEFAULT_NAME = 'orders/inlet-smoke-{run}-{door}.csv';

/** `20261207-101112-3fa9`: the run's UTC time, and four hex digits so two runs in a second differ. */
export function runId(now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const suffix = Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${stamp}-${suffix}`;
}

export function smokeName(pattern: string, run: string, door: DoorId): string {
  return pattern.replaceAll('{run}', run).replaceAll('{door}', door);
}

/** One order row in examples/data/orders.csv's columns: 16 digits, within bigint and unique per door. */
export function defaultOrder(run: string, door: DoorId, placedAt: Date): Buffer {
  const orderId = `9${run.slice(0, 8)}${run.slice(9, 15)}${DOOR_IDS.indexOf(door)}`;
  return Buffer.from(
    `order_id,placed_at,Customer Name,amount,paid\n${orderId},${placedAt.toISOString()},Inlet smoke test,0.00,false\n`,
  );
}

export function smokeFile(
  options: { readonly name: string; readonly body?: Buffer },
  run: string,
  door: DoorId,
  now: Date,
): SmokeFile {
  return { name: smokeName(options.name, run, door), body: options.body ?? defaultOrder(run, door, now) };
}
