import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadIngestConfig } from '../../../src/cli/ingest-config.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';

const CONFIG = `
pipelines:
  - name: orders
    match: ["orders/**"]
    table: public.orders
    columns:
      - { name: order_id, type: bigint }
`;

function storeOf(objects: Record<string, string>): { store: ObjectStore; asked: string[] } {
  const asked: string[] = [];
  const store = {
    scheme: 's3',
    async get(bucket: string, key: string) {
      asked.push(`${bucket}/${key}`);
      const text = objects[`${bucket}/${key}`];
      if (text === undefined) throw new Error('NoSuchKey');
      return { body: Readable.from([Buffer.from(text)]), info: { bucket, key, size: text.length } };
    },
  } as unknown as ObjectStore;
  return { store, asked };
}

describe('the config inlet ingest runs with (the hand-over task is given an s3:// URI)', () => {
  it('reads an s3:// config from the object store', async () => {
    const { store, asked } = storeOf({ 'cdk-assets/abc.yaml': CONFIG });
    const config = await loadIngestConfig('s3://cdk-assets/abc.yaml', () => store);
    expect(config.pipelines.map((p) => p.name)).toEqual(['orders']);
    expect(asked).toEqual(['cdk-assets/abc.yaml']);
  });

  it('says which URI could not be read, as a config error', async () => {
    const { store } = storeOf({});
    await expect(loadIngestConfig('s3://cdk-assets/gone.yaml', () => store)).rejects.toMatchObject({
      code: 'invalid_config',
      message: expect.stringContaining('s3://cdk-assets/gone.yaml: the config could not be read (NoSuchKey)'),
    });
  });
});
