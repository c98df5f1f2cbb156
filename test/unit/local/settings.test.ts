/** `inlet dev`'s settings: defaults, empty values, every variable read, errors that name the variable. */
import { describe, expect, it } from 'vitest';
import { localSettings } from '../../../src/local/settings.js';

const VARIABLES = [
  'INLET_S3_PORT',
  'INLET_INBOX_BUCKET',
  'INLET_S3_REPLAY_DEAD',
  'INLET_EXAMPLES',
  'INLET_S3_ACCESS_KEY_ID',
  'INLET_S3_SECRET_ACCESS_KEY',
  'INLET_HOST',
  'INLET_LAMBDA_MAX_BYTES',
];

describe('localSettings', () => {
  it('has the documented defaults, the API on 127.0.0.1, whether variables are unset, empty or blank', () => {
    for (const blank of [undefined, '', '  ']) {
      const env = blank === undefined ? {} : Object.fromEntries(VARIABLES.map((name) => [name, blank]));
      const settings = localSettings('.inlet', env);
      expect(settings.s3).toEqual({
        port: undefined,
        bucket: 'inlet-inbox',
        replayDead: false,
        credentials: undefined,
        maxLambdaBytes: undefined,
        childEnv: env,
      });
      expect(settings.loadExamples).toBe(true);
      expect(settings.server.host).toBe('127.0.0.1');
    }
  });

  it('reads every variable', () => {
    const env = {
      INLET_S3_PORT: '0',
      INLET_INBOX_BUCKET: ' drop-zone ',
      INLET_S3_REPLAY_DEAD: '1',
      INLET_EXAMPLES: '0',
      INLET_S3_ACCESS_KEY_ID: 'id',
      INLET_S3_SECRET_ACCESS_KEY: 'secret',
      INLET_WORKERS: '3',
      INLET_LAMBDA_MAX_BYTES: '1048576',
    };
    const settings = localSettings('.inlet', env);
    expect(settings.s3).toEqual({
      port: 0,
      bucket: 'drop-zone',
      replayDead: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      maxLambdaBytes: 1_048_576,
      // The hand-over's child inherits the stack's environment.
      childEnv: env,
    });
    expect(settings.loadExamples).toBe(false);
    expect(settings.server.workers).toBe(3);
  });

  it('reads the flags as true or false in either spelling', () => {
    expect(localSettings('.inlet', { INLET_EXAMPLES: 'false' }).loadExamples).toBe(false);
    expect(localSettings('.inlet', { INLET_EXAMPLES: 'TRUE' }).loadExamples).toBe(true);
    expect(localSettings('.inlet', { INLET_S3_REPLAY_DEAD: 'true' }).s3.replayDead).toBe(true);
  });

  it.each([
    ['INLET_S3_PORT', '9000x', 'a whole number from 0 to 65535'],
    ['INLET_EXAMPLES', 'no', '"1", "true", "0" or "false"'],
    ['INLET_S3_REPLAY_DEAD', 'yes', '"1", "true", "0" or "false"'],
    ['INLET_PORT', '-8080', 'a whole number from 0 to 65535'],
  ])('names %s and what it accepts when it is %j', (name, value, accepts) => {
    expect(() => localSettings('.inlet', { [name]: value })).toThrow(
      `${name} must be ${accepts}, got ${JSON.stringify(value)}.`,
    );
  });

  it('refuses half a pair of gateway credentials, which it used to ignore', () => {
    expect(() => localSettings('.inlet', { INLET_S3_ACCESS_KEY_ID: 'id' })).toThrow(
      /^INLET_S3_SECRET_ACCESS_KEY must be set too/,
    );
  });
});
