/**
 * What an RDS instance class holds, for alarm thresholds that must follow the class: its memory, and the
 * connections PostgreSQL on RDS accepts by default, `LEAST(DBInstanceClassMemory / 9531392, 5000)`.
 * DBInstanceClassMemory is the class's memory less what the OS and RDS keep (about a quarter on the
 * small classes), so the connection estimate errs low: an alarm on it fires early rather than never.
 */

const GIB = 1024 ** 3;
/** Bytes of memory per connection in RDS's default max_connections formula for PostgreSQL. */
const BYTES_PER_CONNECTION = 9_531_392;
/** The share of the class's memory left as DBInstanceClassMemory (RDS keeps the rest). */
const USABLE_SHARE = 0.75;

/** Burstable classes' memory by size, in GiB. */
const BURSTABLE_GIB: Readonly<Record<string, number>> = {
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  '2xlarge': 32,
};
/** GiB per vCPU of the other families Inlet is likely to run on. */
const GIB_PER_VCPU: Readonly<Record<string, number>> = { m: 4, r: 8, x: 16 };
const VCPUS: Readonly<Record<string, number>> = { large: 2, xlarge: 4 };

/** The memory of `t4g.micro`, `m7g.large`, `r6i.4xlarge`…, in bytes; undefined for a class not known here. */
export function instanceMemoryBytes(instanceClass: string): number | undefined {
  const [family = '', size = ''] = instanceClass.replace(/^db\./, '').split('.');
  if (/^t\d/.test(family)) {
    const gib = BURSTABLE_GIB[size];
    return gib === undefined ? undefined : gib * GIB;
  }
  const perVcpu = GIB_PER_VCPU[family.charAt(0)];
  const multiple = /^(\d+)xlarge$/.exec(size)?.[1];
  const vcpus = multiple === undefined ? VCPUS[size] : Number(multiple) * 4;
  if (perVcpu === undefined || vcpus === undefined || !/^[mrx]\d/.test(family)) return undefined;
  return perVcpu * vcpus * GIB;
}

/** RDS's default max_connections for the class, estimated low; undefined when its memory is not known. */
export function defaultMaxConnections(instanceClass: string): number | undefined {
  const memory = instanceMemoryBytes(instanceClass);
  if (memory === undefined) return undefined;
  return Math.min(Math.floor((memory * USABLE_SHARE) / BYTES_PER_CONNECTION), 5000);
}
