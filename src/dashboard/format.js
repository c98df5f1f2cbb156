/** Number, time and name spellings for the dashboard (the CLI's, in the browser). */

const counts = new Intl.NumberFormat('en-US');
const decimals = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** @param {number | null | undefined} n */
export function formatCount(n) {
  return n === null || n === undefined ? '–' : counts.format(n);
}

/** A rate with a sensible number of digits: 1,234 · 12.5 · 0.25. @param {number} n */
export function formatRate(n) {
  if (n === 0) return '0';
  if (n >= 100) return counts.format(Math.round(n));
  if (n >= 1) return decimals.format(n);
  return String(Number(n.toPrecision(2)));
}

/** @param {number | null | undefined} ms */
export function formatDuration(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** @param {number | null | undefined} n */
export function formatBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** @param {number | null} ratio */
export function formatPercent(ratio) {
  if (ratio === null) return 'no rows';
  const percent = ratio * 100;
  if (percent === 0) return '0%';
  return percent < 0.1 ? '<0.1%' : `${decimals.format(percent)}%`;
}

/** Local wall-clock time; the date too when it is not today. @param {string | number | null} when */
export function formatTime(when) {
  if (when === null) return '–';
  const date = new Date(when);
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/**
 * What a person calls the file: the uploaded name for `upload:///orders.csv`, the path for `file://`,
 * the URI otherwise. @param {string} source
 */
export function fileName(source) {
  if (!source) return '(not known yet)';
  for (const prefix of ['upload:///', 'file://']) {
    if (source.startsWith(prefix)) return safeDecode(source.slice(prefix.length));
  }
  // sftp://<user>/inbound/<pipeline>/<name>: the name the partner put.
  const sftp = /^sftp:\/\/[^/]+\/inbound\/[^/]+\/(.+)$/.exec(source);
  if (sftp?.[1]) return safeDecode(sftp[1]);
  return source;
}

/**
 * The door a file came through, as the API names it (`http`, `sftp`, `s3`, `cli`), with the SFTP user.
 * @param {{ door?: string, sftpUser?: string }} view
 */
export function doorText(view) {
  if (!view.door) return '–';
  const names = { http: 'HTTP upload', sftp: 'SFTP', s3: 'S3', cli: 'CLI', other: 'other' };
  const name = names[/** @type {keyof typeof names} */ (view.door)] ?? view.door;
  return view.sftpUser ? `${name} (user ${view.sftpUser})` : name;
}

/** @param {string} text */
function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The millisecond a UUIDv7 was made in (upload ids are v7: the request's arrival), else null. @param {string} id */
export function uuidV7Time(id) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7/i.test(id)) return null;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
