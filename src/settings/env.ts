/**
 * Reading environment variables, with one rule for all of them (docs/environment.md): a variable that is
 * unset, empty or only spaces is unset, and its default applies; a value is used without its surrounding
 * spaces. A value that is not one the variable accepts stops the process with a ConfigError that names the
 * variable, what it accepts and what it got, rather than running on a guess.
 *
 * These readers take the environment as an argument: only the settings module of each process kind
 * (src/cli, src/server, src/local, src/serverless) hands them `process.env`.
 */
import { ConfigError } from '../errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The value, trimmed; undefined when the variable is unset, empty or only spaces. */
export function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function integer(
  env: Env,
  name: string,
  range: { readonly min: number; readonly max?: number },
): number | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const { min, max = Number.MAX_SAFE_INTEGER } = range;
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    const upTo = max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`;
    throw invalidSetting(name, `a whole number from ${min}${upTo}`, raw);
  }
  return value;
}

/** A TCP port; 0 asks for any free one. */
export function port(env: Env, name: string): number | undefined {
  return integer(env, name, { min: 0, max: 65_535 });
}

export function choice<T extends string>(env: Env, name: string, choices: readonly T[]): T | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw invalidSetting(name, listOf(choices), raw);
}

const YES = ['1', 'true'];
const NO = ['0', 'false'];

/** `1` or `true`, `0` or `false` (any case). */
export function flag(env: Env, name: string): boolean | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  if (YES.includes(raw.toLowerCase())) return true;
  if (NO.includes(raw.toLowerCase())) return false;
  throw invalidSetting(name, `${listOf([...YES, ...NO])}`, raw);
}

/** An `http://` or `https://` URL with a host. */
export function httpUrl(env: Env, name: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  if (!/^https?:\/\/[^/]/i.test(raw) || !URL.canParse(raw)) {
    throw invalidSetting(name, 'an http:// or https:// URL such as http://localhost:9000', raw);
  }
  return raw;
}

/** The error every reader throws: `NAME must be <what it accepts>, got "<value>".` */
export function invalidSetting(name: string, accepts: string, got: string): ConfigError {
  return new ConfigError('invalid_setting', `${name} must be ${accepts}, got ${JSON.stringify(got)}.`);
}

function listOf(values: readonly string[]): string {
  const quoted = values.map((value) => `"${value}"`);
  return quoted.length === 1
    ? (quoted[0] as string)
    : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}
