/**
 * The virtual tree a partner sees, never the server's disk:
 *
 *     /
 *     /inbound/<pipeline>/            write a file here to load it; lists what was received lately
 *     /outbound/<pipeline>/           read-only: <name>.result.json and <name>.rejects.csv once loaded
 *
 * one `<pipeline>` folder for each pipeline the user may write. A path is resolved against `/` (the
 * session's only working directory); `.` and empty segments are dropped, and a `..` segment, a NUL or a
 * name past the tree's depth is refused rather than normalised: nothing a client sends can name anything
 * outside these folders.
 */

export type Area = 'inbound' | 'outbound';
export const AREAS: readonly Area[] = ['inbound', 'outbound'];

export type Place =
  | { kind: 'root' }
  | { kind: 'area'; area: Area }
  | { kind: 'folder'; area: Area; pipeline: string }
  | { kind: 'file'; area: Area; pipeline: string; name: string };

/** Why a path names nothing a user may reach; the session maps each to an SFTP status. */
export type Refusal =
  | { refused: 'outside'; message: string }
  | { refused: 'forbidden'; message: string }
  | { refused: 'missing'; message: string };

export interface Resolved {
  place: Place;
  /** The canonical absolute path (what REALPATH answers). */
  path: string;
}

const MAX_PATH_BYTES = 4096;

export function resolvePath(raw: string, pipelines: readonly string[]): Resolved | Refusal {
  if (raw.includes('\0')) return { refused: 'outside', message: 'a path cannot hold a NUL byte' };
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) {
    return { refused: 'outside', message: `a path is at most ${MAX_PATH_BYTES} bytes` };
  }
  const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) {
    return {
      refused: 'outside',
      message: `"${raw}": ".." is not allowed; use absolute paths such as /inbound/<pipeline>/<file>`,
    };
  }
  const path = `/${segments.join('/')}`;
  const [area, pipeline, name, ...deeper] = segments;
  if (area === undefined) return { place: { kind: 'root' }, path };
  if (area !== 'inbound' && area !== 'outbound') {
    return { refused: 'missing', message: `${path}: no such folder; there are /inbound and /outbound` };
  }
  if (pipeline === undefined) return { place: { kind: 'area', area }, path };
  if (!pipelines.includes(pipeline)) {
    return {
      refused: 'forbidden',
      message: `${path}: this user may not use pipeline "${pipeline}"; its folders are ${pipelines.map((p) => `/${area}/${p}`).join(', ')}`,
    };
  }
  if (name === undefined) return { place: { kind: 'folder', area, pipeline }, path };
  if (deeper.length > 0) {
    return {
      refused: 'forbidden',
      message: `${path}: /${area}/${pipeline}/ has no subfolders; put files directly in it`,
    };
  }
  return { place: { kind: 'file', area, pipeline, name }, path };
}

export function isRefusal(value: Resolved | Refusal): value is Refusal {
  return 'refused' in value;
}
