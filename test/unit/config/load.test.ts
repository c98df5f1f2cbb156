import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadOptionalConfig, parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

const VALID = 'pipelines:\n  - { name: a, table: a, columns: [{ name: x, type: text }] }\n';

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('parseConfig', () => {
  it('names the line and column of a YAML syntax error, with the excerpt', () => {
    const error = (() => {
      try {
        parseConfig('pipelines:\n  - name: a\n    table: {b\n  - x\n', 'inlet.config.yaml');
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('invalid_config');
    expect(error.message).toMatch(/^inlet\.config\.yaml: line 4, column 3: YAML syntax error: Flow map/);
    expect(error.message).toContain('table: {b');
  });

  it('refuses duplicate keys, which YAML would otherwise resolve silently', () => {
    expect(() => parseConfig('pipelines: []\npipelines: []\n', 'c.yaml')).toThrow(
      /^c\.yaml: line 2, column 1: YAML syntax error: Map keys must be unique/,
    );
  });

  it('refuses alias bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
      .concat(
        ['b', 'c', 'd', 'e', 'f', 'g'].map(
          (key, i) => `${key}: &${key} [${Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`,
        ),
      )
      .join('\n');
    expect(() => parseConfig(bomb, 'c.yaml')).toThrow(ConfigError);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inlet-config-'));
    await writeFile(join(dir, 'inlet.config.yaml'), VALID);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the named file', async () => {
    const config = await loadConfig(join(dir, 'inlet.config.yaml'));
    expect(config.pipelines.map((p) => p.name)).toEqual(['a']);
  });

  it('reads a file:// URI', async () => {
    const config = await loadConfig(pathToFileURL(join(dir, 'inlet.config.yaml')).href);
    expect(config.pipelines).toHaveLength(1);
  });

  it('reads inlet.config.yaml in the working directory when no file is named', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect((await loadConfig()).pipelines).toHaveLength(1);
    } finally {
      process.chdir(cwd);
    }
  });

  it('says how to create a missing file', async () => {
    const missing = join(dir, 'nope.yaml');
    const error = await rejection(loadConfig(missing));
    expect(error.code).toBe('config_not_found');
    expect(error.message).toContain(missing);
    expect(error.message).toContain('examples/inlet.config.yaml');
  });

  it('names the file in every issue', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'pipelines:\n  - { name: a, table: a, columns: [{ name: x, type: numbr }] }\n');
    const error = await rejection(loadConfig(file));
    expect(error.message).toMatch(
      new RegExp(
        `^${file.replaceAll('/', '\\/')}: pipelines\\[0\\]\\.columns\\[0\\]\\.type: unknown type "numbr"`,
      ),
    );
  });

  it('refuses a directory', async () => {
    const error = await rejection(loadConfig(dir));
    expect(error.message).toContain('it is a directory');
  });

  it('refuses remote URIs, which only the Lambda adapter fetches', async () => {
    const error = await rejection(loadConfig('s3://bucket/inlet.config.yaml'));
    expect(error.message).toContain('local file');
  });
});

describe('loadOptionalConfig', () => {
  let dir: string;
  let empty: string;
  const cwd = process.cwd();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inlet-config-'));
    empty = await mkdtemp(join(tmpdir(), 'inlet-config-empty-'));
    await writeFile(join(dir, 'inlet.config.yaml'), VALID);
  });
  afterEach(() => process.chdir(cwd));
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(empty, { recursive: true, force: true });
  });

  it('reads the named file, which must exist', async () => {
    expect((await loadOptionalConfig(join(dir, 'inlet.config.yaml')))?.pipelines).toHaveLength(1);
    expect((await rejection(loadOptionalConfig(join(empty, 'inlet.config.yaml')))).code).toBe(
      'config_not_found',
    );
  });

  it('reads inlet.config.yaml when it is there and no file is named, else gives none', async () => {
    process.chdir(dir);
    expect((await loadOptionalConfig(undefined))?.pipelines).toHaveLength(1);
    process.chdir(empty);
    expect(await loadOptionalConfig(undefined)).toBeUndefined();
  });
});
