/** The one rule for every variable: empty is unset, values are trimmed, a bad value names the variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { choice, flag, httpUrl, integer, port, text } from '../../../src/settings/env.js';

/** The error a reader throws, which must be a ConfigError. */
function failure(read: () => unknown): ConfigError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('invalid_setting');
    return error as ConfigError;
  }
  throw new Error('expected the reader to throw');
}

describe('the empty rule', () => {
  const readers = {
    text: (env: Record<string, string>) => text(env, 'V'),
    integer: (env: Record<string, string>) => integer(env, 'V', { min: 1 }),
    port: (env: Record<string, string>) => port(env, 'V'),
    choice: (env: Record<string, string>) => choice(env, 'V', ['a', 'b']),
    flag: (env: Record<string, string>) => flag(env, 'V'),
    httpUrl: (env: Record<string, string>) => httpUrl(env, 'V'),
  };

  it.each(Object.entries(readers))('%s: unset, empty and blank are all unset', (_name, read) => {
    expect(read({})).toBeUndefined();
    expect(read({ V: '' })).toBeUndefined();
    expect(read({ V: '  \t ' })).toBeUndefined();
  });

  it('trims what is set', () => {
    expect(text({ V: '  .inlet-data \n' }, 'V')).toBe('.inlet-data');
    expect(integer({ V: ' 42 ' }, 'V', { min: 1 })).toBe(42);
    expect(choice({ V: ' b ' }, 'V', ['a', 'b'])).toBe('b');
  });
});

describe('integer', () => {
  it('takes whole numbers in range', () => {
    expect(integer({ V: '0' }, 'V', { min: 0 })).toBe(0);
    expect(integer({ V: '64' }, 'V', { min: 1, max: 64 })).toBe(64);
  });

  it('names the variable, the range and the value it refuses', () => {
    expect(failure(() => integer({ V: '65' }, 'V', { min: 1, max: 64 })).message).toBe(
      'V must be a whole number from 1 to 64, got "65".',
    );
    expect(failure(() => integer({ V: '0' }, 'V', { min: 1 })).message).toBe(
      'V must be a whole number from 1 up, got "0".',
    );
    for (const bad of ['-1', '1.5', '1e3', '0x10', 'ten', '12abc'])
      expect(failure(() => integer({ V: bad }, 'V', { min: 0 })).message).toContain(`got "${bad}"`);
  });
});

describe('port', () => {
  it('takes 0 (any free port) to 65535', () => {
    expect(port({ P: '0' }, 'P')).toBe(0);
    expect(port({ P: '65535' }, 'P')).toBe(65535);
    expect(failure(() => port({ P: '65536' }, 'P')).message).toBe(
      'P must be a whole number from 0 to 65535, got "65536".',
    );
  });
});

describe('choice', () => {
  it('lists what it accepts', () => {
    expect(failure(() => choice({ V: 'c' }, 'V', ['a', 'b'])).message).toBe('V must be "a" or "b", got "c".');
    expect(failure(() => choice({ V: 'A' }, 'V', ['a', 'b', 'c'])).message).toBe(
      'V must be "a", "b" or "c", got "A".',
    );
  });
});

describe('flag', () => {
  it('reads 1/true and 0/false, in any case', () => {
    for (const yes of ['1', 'true', 'TRUE', 'True']) expect(flag({ F: yes }, 'F')).toBe(true);
    for (const no of ['0', 'false', 'FALSE']) expect(flag({ F: no }, 'F')).toBe(false);
  });

  it('refuses anything else rather than guessing', () => {
    expect(failure(() => flag({ F: 'yes' }, 'F')).message).toBe(
      'F must be "1", "true", "0" or "false", got "yes".',
    );
  });
});

describe('httpUrl', () => {
  it('takes http and https URLs', () => {
    expect(httpUrl({ U: 'http://127.0.0.1:9000' }, 'U')).toBe('http://127.0.0.1:9000');
    expect(httpUrl({ U: 'https://s3.example.com/' }, 'U')).toBe('https://s3.example.com/');
  });

  it('refuses what is not one', () => {
    for (const bad of ['localhost:9000', 'ftp://host', 'http://', 'http:///path'])
      expect(failure(() => httpUrl({ U: bad }, 'U')).message).toMatch(
        /^U must be an http:\/\/ or https:\/\/ URL/,
      );
  });
});
