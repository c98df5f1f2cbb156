/** How `s3://` clients connect, checked on the real S3 client the settings configure. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { s3ConnectionFrom } from '../../../src/settings/s3.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';

describe('s3ConnectionFrom', () => {
  it('uses the default AWS endpoint, region us-east-1 and virtual-hosted addressing when nothing is set', async () => {
    for (const env of [
      {},
      { INLET_S3_ENDPOINT: '', AWS_REGION: ' ', INLET_S3_ACCESS_KEY_ID: '', INLET_S3_SECRET_ACCESS_KEY: '' },
    ]) {
      expect(s3ConnectionFrom(env)).toEqual({});
      const store = new S3ObjectStore(s3ConnectionFrom(env));
      try {
        expect(await store.client.config.region()).toBe('us-east-1');
        expect(store.client.config.forcePathStyle).toBeFalsy();
        expect(store.client.config.endpoint).toBeUndefined();
      } finally {
        store.close();
      }
    }
  });

  it('turns on path-style addressing with INLET_S3_ENDPOINT and uses the INLET_S3 credentials', async () => {
    const store = new S3ObjectStore(
      s3ConnectionFrom({
        INLET_S3_ENDPOINT: 'http://127.0.0.1:9000',
        INLET_S3_ACCESS_KEY_ID: 'id',
        INLET_S3_SECRET_ACCESS_KEY: 'secret',
        AWS_REGION: 'eu-west-3',
      }),
    );
    try {
      expect(await store.client.config.region()).toBe('eu-west-3');
      expect(store.client.config.forcePathStyle).toBe(true);
      const endpoint = await store.client.config.endpoint?.();
      expect(endpoint?.hostname).toBe('127.0.0.1');
      expect(endpoint?.port).toBe(9000);
      const credentials = await store.client.config.credentials();
      expect(credentials).toMatchObject({ accessKeyId: 'id', secretAccessKey: 'secret' });
    } finally {
      store.close();
    }
  });

  it('refuses half a pair of credentials, naming the one that is set', () => {
    expect(() => s3ConnectionFrom({ INLET_S3_ACCESS_KEY_ID: 'id' })).toThrow(ConfigError);
    expect(() => s3ConnectionFrom({ INLET_S3_ACCESS_KEY_ID: 'id', INLET_S3_SECRET_ACCESS_KEY: ' ' })).toThrow(
      /^INLET_S3_SECRET_ACCESS_KEY must be set too: .*only INLET_S3_ACCESS_KEY_ID is set/,
    );
    expect(() => s3ConnectionFrom({ INLET_S3_SECRET_ACCESS_KEY: 'secret' })).toThrow(
      /^INLET_S3_ACCESS_KEY_ID must be set too: .*only INLET_S3_SECRET_ACCESS_KEY is set/,
    );
  });

  it('refuses an endpoint that is not an http(s) URL', () => {
    expect(() => s3ConnectionFrom({ INLET_S3_ENDPOINT: 'localhost:9000' })).toThrow(
      'INLET_S3_ENDPOINT must be an http:// or https:// URL such as http://localhost:9000, got "localhost:9000".',
    );
  });
});
