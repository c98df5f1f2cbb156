import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { DEFAULT_CSV, DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../../src/model/contract.js';

const ORIGIN = 'inlet.config.yaml';

/** A config of one pipeline: `extra` lines are appended to its mapping (4-space indented). */
function onePipeline(extra: string, columns = 'columns:\n      - { name: id, type: bigint }'): string {
  return `pipelines:\n  - name: orders\n    table: orders\n    ${columns}\n${extra
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => `    ${line}`)
    .join('\n')}\n`;
}

function parse(text: string) {
  return parseConfig(text, ORIGIN);
}

function errorOf(text: string): ConfigError {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function firstPipeline(text: string) {
  const [pipeline] = parse(text).pipelines;
  if (pipeline === undefined) throw new Error('no pipeline');
  return pipeline;
}

describe('config defaults', () => {
  it('fills in every documented default', () => {
    const pipeline = firstPipeline(onePipeline(''));
    expect(pipeline).toEqual({
      name: 'orders',
      match: [],
      format: 'auto',
      csv: DEFAULT_CSV,
      table: { schema: 'public', name: 'orders' },
      createTable: false,
      mode: 'append',
      key: [],
      columns: [{ name: 'id', type: { kind: 'bigint', sql: 'bigint' }, source: 'id', nullable: true }],
      rejects: { maxRatio: 0 },
      duplicateKeys: 'last',
      timezone: 'UTC',
      onDrift: 'reject',
      afterLoad: 'none',
      infer: false,
      limits: { maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES, maxCompressionRatio: 200 },
    });
  });

  it('reads the documented example', () => {
    const config = parse(`
pipelines:
  - name: orders
    match: ["orders/**", "*.orders.csv"]
    format: csv
    csv: { delimiter: ",", quote: "\\"", header: true, encoding: utf8 }
    table: public.orders
    createTable: true
    mode: upsert
    key: [order_id]
    columns:
      - { name: order_id, type: bigint, nullable: false }
      - { name: placed_at, type: timestamptz }
      - { name: customer, type: text, source: "Customer Name" }
      - { name: amount, type: "numeric(12,2)" }
      - { name: paid, type: boolean }
    rejects: { maxRatio: 0.01 }
    duplicateKeys: last
    timezone: UTC
    onDrift: reject
    afterLoad: none
snapshots: { schedule: "0 * * * *", retention: { last: 24, daily: 7, weekly: 4, monthly: 6 } }
`);
    const [orders] = config.pipelines;
    expect(orders?.match).toEqual(['orders/**', '*.orders.csv']);
    expect(orders?.columns.map((c) => c.type.sql)).toEqual([
      'bigint',
      'timestamptz',
      'text',
      'numeric(12,2)',
      'boolean',
    ]);
    expect(orders?.columns[2]?.source).toBe('Customer Name');
    expect(config.snapshots).toEqual({
      schedule: '0 * * * *',
      retention: { last: 24, daily: 7, weekly: 4, monthly: 6 },
    });
  });

  it('accepts JSON, which is valid YAML', () => {
    const config = parse(
      JSON.stringify({ pipelines: [{ name: 'a', table: 'a', columns: [{ name: 'x', type: 'text' }] }] }),
    );
    expect(config.pipelines[0]?.name).toBe('a');
    expect(config).not.toHaveProperty('snapshots');
  });

  it('takes match and key as a single string or a list', () => {
    const pipeline = firstPipeline(onePipeline('match: "*.csv"\nkey: id\nmode: upsert'));
    expect(pipeline.match).toEqual(['*.csv']);
    expect(pipeline.key).toEqual(['id']);
  });

  it('defaults the tsv delimiter to a tab, and the escape to the chosen quote', () => {
    expect(firstPipeline(onePipeline('format: tsv')).csv.delimiter).toBe('\t');
    expect(firstPipeline(onePipeline('format: tsv\ntsv: { header: false }')).csv).toEqual({
      ...DEFAULT_CSV,
      delimiter: '\t',
      header: false,
    });
    expect(firstPipeline(onePipeline('csv: { quote: "\'" }')).csv).toMatchObject({ quote: "'", escape: "'" });
    expect(firstPipeline(onePipeline('csv: { escape: "\\\\" }')).csv).toMatchObject({
      quote: '"',
      escape: '\\',
    });
  });

  it("turns decimalSeparator into the number columns' format, a column's own winning", () => {
    const pipeline = firstPipeline(
      onePipeline(
        'decimalSeparator: ","',
        [
          'columns:',
          '      - { name: a, type: "numeric(9,2)" }',
          '      - { name: b, type: real, decimalSeparator: "." }',
          '      - { name: c, type: text }',
          '      - { name: d, type: bigint, format: "1 234,5" }',
        ].join('\n'),
      ),
    );
    expect(pipeline.columns.map((c) => c.format)).toEqual(['1.234,56', undefined, undefined, '1 234,5']);
  });

  it('reads onDrift: freeze as reject, and takes discardRow', () => {
    expect(firstPipeline(onePipeline('onDrift: freeze')).onDrift).toBe('reject');
    expect(firstPipeline(onePipeline('onDrift: discardRow')).onDrift).toBe('discardRow');
    expect(firstPipeline(onePipeline('onDrift: evolve')).onDrift).toBe('evolve');
  });

  it('refuses onDrift: evolve for a CSV without a header, whose columns have no names to add', () => {
    expect(errorOf(onePipeline('onDrift: evolve\ncsv: { header: false }')).message).toContain(
      'onDrift: evolve adds the columns a header names, and this pipeline reads CSV without one (csv.header: false)',
    );
    expect(firstPipeline(onePipeline('onDrift: evolve\nformat: xlsx')).onDrift).toBe('evolve');
  });

  it('normalises encoding spellings', () => {
    expect(firstPipeline(onePipeline('csv: { encoding: ISO-8859-1 }')).csv.encoding).toBe('latin1');
    expect(firstPipeline(onePipeline('csv: { encoding: UTF-8 }')).csv.encoding).toBe('utf8');
  });

  it('parses column types, defaults and formats', () => {
    const pipeline = firstPipeline(
      onePipeline(
        '',
        'columns:\n      - { name: d, type: date, format: DD/MM/YYYY, default: 01/01/1970 }\n      - { name: n, type: int, default: 0 }',
      ),
    );
    expect(pipeline.columns[0]).toMatchObject({ format: 'DD/MM/YYYY', default: '01/01/1970' });
    expect(pipeline.columns[1]).toMatchObject({ type: { kind: 'integer', sql: 'integer' }, default: '0' });
  });

  it('makes key columns NOT NULL without being told', () => {
    const pipeline = firstPipeline(onePipeline('mode: upsert\nkey: [id]'));
    expect(pipeline.columns[0]?.nullable).toBe(false);
  });

  it('lets infer: true stand in for columns', () => {
    const pipeline = firstPipeline(onePipeline('', 'infer: true'));
    expect(pipeline.columns).toEqual([]);
    expect(pipeline.infer).toBe(true);
  });

  it('keeps maxRejects alone when only it is given', () => {
    expect(firstPipeline(onePipeline('rejects: { maxRejects: 5 }')).rejects).toEqual({ maxRejects: 5 });
  });

  it('takes a schema-qualified table and decompression limits', () => {
    const pipeline = firstPipeline(
      onePipeline('limits: { maxDecompressedBytes: 1048576, maxCompressionRatio: 1000 }').replace(
        'table: orders',
        'table: sales.orders',
      ),
    );
    expect(pipeline.table).toEqual({ schema: 'sales', name: 'orders' });
    expect(pipeline.limits.maxDecompressedBytes).toBe(1_048_576);
    expect(pipeline.limits.maxCompressionRatio).toBe(1000);
  });
});

describe('config checks', () => {
  const cases: Array<[string, string, string]> = [
    [
      'an unknown type',
      onePipeline('', 'columns:\n      - { name: id, type: numbr }'),
      'inlet.config.yaml: pipelines[0].columns[0].type: unknown type "numbr"; supported: smallint, integer, bigint',
    ],
    [
      'a misspelt key, with a suggestion',
      onePipeline('createtable: true'),
      'inlet.config.yaml: pipelines[0].createtable: unknown key; did you mean "createTable"?',
    ],
    [
      'snake_case for camelCase',
      onePipeline('on_drift: reject'),
      'inlet.config.yaml: pipelines[0].on_drift: unknown key; did you mean "onDrift"?',
    ],
    [
      'an unknown key with no close match',
      onePipeline('colour: blue'),
      'inlet.config.yaml: pipelines[0].colour: unknown key; expected one of: name, match',
    ],
    ['an unknown top-level key', 'pipelines: []\nextra: 1\n', 'inlet.config.yaml: extra: unknown key'],
    ['no pipelines', 'pipelines: []\n', 'inlet.config.yaml: pipelines: must list at least one pipeline'],
    [
      'a missing table',
      'pipelines:\n  - name: a\n    columns: [{ name: x, type: text }]\n',
      'inlet.config.yaml: pipelines[0].table: required',
    ],
    [
      'a wrong type',
      onePipeline('createTable: "yes"'),
      'inlet.config.yaml: pipelines[0].createTable: expected true or false, got "yes"',
    ],
    [
      'a number where a name is expected',
      onePipeline('', 'columns:\n      - { name: 2020, type: text }'),
      'inlet.config.yaml: pipelines[0].columns[0].name: expected a string, got 2020 (quote it: "2020")',
    ],
    [
      'an unknown enum value',
      onePipeline('mode: merge'),
      'inlet.config.yaml: pipelines[0].mode: expected one of "append" | "upsert" | "replace", got "merge"',
    ],
    [
      'an unsafe pipeline name',
      onePipeline('').replace('name: orders', 'name: Orders Daily'),
      'inlet.config.yaml: pipelines[0].name: must use only lowercase letters, digits, "_" and "-"',
    ],
    [
      'duplicate pipeline names',
      `${onePipeline('')}  - name: orders\n    table: b\n    columns: [{ name: x, type: text }]\n`,
      'inlet.config.yaml: pipelines[1].name: duplicate pipeline name "orders" (also pipelines[0])',
    ],
    [
      'a table name over 63 bytes',
      onePipeline('').replace('table: orders', `table: ${'t'.repeat(64)}`),
      `inlet.config.yaml: pipelines[0].table: table "${'t'.repeat(64)}": "${'t'.repeat(64)}" is 64 bytes long; PostgreSQL names hold at most 63 bytes`,
    ],
    [
      'a column name over 63 bytes (multi-byte)',
      onePipeline('', `columns:\n      - { name: ${'é'.repeat(32)}, type: text }`),
      'inlet.config.yaml: pipelines[0].columns[0].name: "éééééééééééééééééééééééééééééééé" is 64 bytes long',
    ],
    [
      'a NUL in a column name',
      onePipeline('', 'columns:\n      - { name: "a\\0b", type: text }'),
      'inlet.config.yaml: pipelines[0].columns[0].name: must not contain a NUL character',
    ],
    [
      'a three-part table name',
      onePipeline('').replace('table: orders', 'table: db.sales.orders'),
      'inlet.config.yaml: pipelines[0].table: expected "schema.name" or "name", got "db.sales.orders"',
    ],
    [
      'an empty schema',
      onePipeline('').replace('table: orders', 'table: .orders'),
      'inlet.config.yaml: pipelines[0].table: table ".orders": must not be empty',
    ],
    [
      'duplicate column names',
      onePipeline('', 'columns:\n      - { name: id, type: bigint }\n      - { name: id, type: text }'),
      'inlet.config.yaml: pipelines[0].columns[1].name: duplicate column "id" (also columns[0])',
    ],
    [
      'a key column that does not exist',
      onePipeline('key: [order_id]'),
      'inlet.config.yaml: pipelines[0].key[0]: no column named "order_id"; columns: id',
    ],
    [
      'a key listed twice',
      onePipeline('key: [id, id]'),
      'inlet.config.yaml: pipelines[0].key[1]: "id" is listed twice',
    ],
    [
      'a nullable key column',
      onePipeline('key: [id]', 'columns:\n      - { name: id, type: bigint, nullable: true }'),
      'inlet.config.yaml: pipelines[0].columns[0].nullable: key column "id" cannot be nullable; remove nullable: true',
    ],
    [
      'upsert without a key',
      onePipeline('mode: upsert'),
      'inlet.config.yaml: pipelines[0].key: required when mode is upsert',
    ],
    [
      'no columns and no infer',
      onePipeline('', 'createTable: false'),
      'inlet.config.yaml: pipelines[0].columns: required: list the target columns, or set infer: true',
    ],
    [
      'an empty column list',
      onePipeline('', 'columns: []'),
      'inlet.config.yaml: pipelines[0].columns: must list at least one column',
    ],
    [
      'a two-character delimiter',
      onePipeline('csv: { delimiter: ";;" }'),
      'inlet.config.yaml: pipelines[0].csv.delimiter: must be auto or a single ASCII character other than a line break, got ";;"',
    ],
    [
      'a non-ASCII quote',
      onePipeline('csv: { quote: "«" }'),
      'inlet.config.yaml: pipelines[0].csv.quote: must be a single ASCII character',
    ],
    [
      'a line break as delimiter',
      onePipeline('csv: { delimiter: "\\n" }'),
      'inlet.config.yaml: pipelines[0].csv.delimiter: must be auto or a single ASCII character other than a line break, got "\\n"',
    ],
    [
      'the quote equal to the delimiter',
      onePipeline('csv: { delimiter: "|", quote: "|" }'),
      'inlet.config.yaml: pipelines[0].csv.quote: must differ from the delimiter "|"',
    ],
    [
      'the escape equal to the delimiter',
      onePipeline('csv: { delimiter: ",", escape: "," }'),
      'inlet.config.yaml: pipelines[0].csv.escape: must differ from the delimiter ","',
    ],
    [
      'csv options on a JSON pipeline',
      onePipeline('format: ndjson\ncsv: { header: false }'),
      "inlet.config.yaml: pipelines[0].csv: csv options apply only to format csv, tsv or auto (this pipeline's format is ndjson)",
    ],
    [
      'both csv and tsv blocks',
      onePipeline('format: tsv\ncsv: {}\ntsv: {}'),
      'inlet.config.yaml: pipelines[0].tsv: give the delimited-text options under csv: or tsv:, not both',
    ],
    [
      'an unknown encoding',
      onePipeline('csv: { encoding: utf16 }'),
      'inlet.config.yaml: pipelines[0].csv.encoding: expected one of "auto" | "utf8" | "utf16le" | "utf16be" | "windows1252" | "latin1", got "utf16"',
    ],
    [
      'a decimal separator on a text column',
      onePipeline('', 'columns:\n      - { name: note, type: text, decimalSeparator: "," }'),
      'inlet.config.yaml: pipelines[0].columns[0].decimalSeparator: applies to number columns only (smallint, integer, bigint, numeric, real, double precision); this one is text',
    ],
    [
      'a decimal separator beside a format',
      onePipeline(
        '',
        'columns:\n      - { name: n, type: numeric, format: "1.234,56", decimalSeparator: "," }',
      ),
      'inlet.config.yaml: pipelines[0].columns[0].decimalSeparator: give either decimalSeparator or format ("1.234,56"), not both',
    ],
    [
      'a decimal separator that is neither',
      onePipeline('decimalSeparator: ";"'),
      'inlet.config.yaml: pipelines[0].decimalSeparator: expected one of "." | ",", got ";"',
    ],
    [
      'maxRatio above 1',
      onePipeline('rejects: { maxRatio: 1.5 }'),
      'inlet.config.yaml: pipelines[0].rejects.maxRatio: must be at most 1',
    ],
    [
      'maxRatio below 0',
      onePipeline('rejects: { maxRatio: -0.1 }'),
      'inlet.config.yaml: pipelines[0].rejects.maxRatio: must be at least 0',
    ],
    [
      'a fractional maxRejects',
      onePipeline('rejects: { maxRejects: 2.5 }'),
      'inlet.config.yaml: pipelines[0].rejects.maxRejects: expected a whole number, got 2.5',
    ],
    [
      'an empty rejects policy',
      onePipeline('rejects: {}'),
      'inlet.config.yaml: pipelines[0].rejects: set maxRatio (a share between 0 and 1) or maxRejects (a number of rows)',
    ],
    [
      'an unknown time zone',
      onePipeline('timezone: Mars/Olympus'),
      'inlet.config.yaml: pipelines[0].timezone: unknown time zone "Mars/Olympus"; use an IANA name such as UTC or Europe/Paris',
    ],
    [
      'a format the type cannot use',
      onePipeline('', 'columns:\n      - { name: id, type: uuid, format: x }'),
      'inlet.config.yaml: pipelines[0].columns[0].format: ',
    ],
    [
      'a match glob of the wrong type',
      onePipeline('match: 3'),
      'inlet.config.yaml: pipelines[0].match: expected a glob or a list of them',
    ],
    [
      'an empty glob in a list',
      onePipeline('match: ["*.csv", ""]'),
      'inlet.config.yaml: pipelines[0].match[1]: must not be empty',
    ],
    [
      'a zero decompression limit',
      onePipeline('limits: { maxDecompressedBytes: 0 }'),
      'inlet.config.yaml: pipelines[0].limits.maxDecompressedBytes: must be above 0',
    ],
    [
      'a compression ratio below 1',
      onePipeline('limits: { maxCompressionRatio: 0.5 }'),
      'inlet.config.yaml: pipelines[0].limits.maxCompressionRatio: must be at least 1',
    ],
    [
      'a bad cron schedule',
      `${onePipeline('')}snapshots: { schedule: "hourly" }\n`,
      'inlet.config.yaml: snapshots.schedule: expected a cron expression of 5 fields',
    ],
    ['an empty file', '', 'inlet.config.yaml: the file is empty; it needs a "pipelines:" list'],
    ['a list at the top level', '- a\n', 'inlet.config.yaml: (top level): expected a mapping, got a list'],
  ];

  it.each(cases)('refuses %s', (_, text, message) => {
    const error = errorOf(text);
    expect(error.code).toBe('invalid_config');
    const line = error.message.split('\n').find((candidate) => candidate.startsWith(message));
    expect(line, error.message).toBeDefined();
  });

  it('lists every problem, one line each, in file order', () => {
    const error = errorOf(`pipelines:
  - name: orders
    table: orders
    mode: merge
    columns:
      - { name: id, type: numbr }
      - { name: amount, type: "numeric(12,2)", colour: red }
    timezone: Nowhere
`);
    expect(error.message.split('\n')).toEqual([
      'inlet.config.yaml: pipelines[0].mode: expected one of "append" | "upsert" | "replace", got "merge"',
      expect.stringMatching(/^inlet\.config\.yaml: pipelines\[0\]\.columns\[0\]\.type: unknown type "numbr"/),
      expect.stringMatching(
        /^inlet\.config\.yaml: pipelines\[0\]\.columns\[1\]\.colour: unknown key; expected one of: name, type/,
      ),
      expect.stringMatching(/^inlet\.config\.yaml: pipelines\[0\]\.timezone: unknown time zone "Nowhere"/),
    ]);
  });

  it('checks each pipeline on its own, so one broken pipeline does not hide another', () => {
    const error = errorOf(`pipelines:
  - { name: a, table: a, columns: [{ name: x, type: numbr }] }
  - { name: b, table: b, mode: upsert, columns: [{ name: x, type: text }] }
`);
    expect(error.message).toContain('pipelines[0].columns[0].type: unknown type "numbr"');
    expect(error.message).toContain('pipelines[1].key: required when mode is upsert');
  });
});

describe('replace guard settings', () => {
  const replacePipeline = (extra: string) => onePipeline(`mode: replace\n${extra}`);

  it('guards every replace pipeline by default, and only replace pipelines', () => {
    expect(firstPipeline(replacePipeline('')).replace).toEqual({ minRows: 1, minRatio: 0.5 });
    expect(firstPipeline(onePipeline('mode: upsert\nkey: [id]'))).not.toHaveProperty('replace');
    expect(firstPipeline(onePipeline(''))).not.toHaveProperty('replace');
  });

  it('takes minRows and minRatio, each defaulting on its own', () => {
    expect(firstPipeline(replacePipeline('replace: { minRows: 100, minRatio: 0.9 }')).replace).toEqual({
      minRows: 100,
      minRatio: 0.9,
    });
    expect(firstPipeline(replacePipeline('replace: { minRows: 0 }')).replace).toEqual({
      minRows: 0,
      minRatio: 0.5,
    });
    expect(firstPipeline(replacePipeline('replace: { minRows: 0, minRatio: 0 }')).replace).toEqual({
      minRows: 0,
      minRatio: 0,
    });
    expect(firstPipeline(replacePipeline('replace: {}')).replace).toEqual({ minRows: 1, minRatio: 0.5 });
  });

  it.each([
    [
      'a negative minRows',
      replacePipeline('replace: { minRows: -1 }'),
      'inlet.config.yaml: pipelines[0].replace.minRows: must be at least 0',
    ],
    [
      'a fractional minRows',
      replacePipeline('replace: { minRows: 1.5 }'),
      'inlet.config.yaml: pipelines[0].replace.minRows: expected a whole number, got 1.5',
    ],
    [
      'minRatio above 1',
      replacePipeline('replace: { minRatio: 2 }'),
      'inlet.config.yaml: pipelines[0].replace.minRatio: must be at most 1',
    ],
    [
      'minRatio below 0',
      replacePipeline('replace: { minRatio: -0.5 }'),
      'inlet.config.yaml: pipelines[0].replace.minRatio: must be at least 0',
    ],
    [
      'minRatio as text',
      replacePipeline('replace: { minRatio: "50%" }'),
      'inlet.config.yaml: pipelines[0].replace.minRatio: expected a number, got "50%"',
    ],
    [
      'a misspelt key',
      replacePipeline('replace: { minRow: 1 }'),
      'inlet.config.yaml: pipelines[0].replace.minRow: unknown key; did you mean "minRows"?',
    ],
    [
      'replace options on a pipeline that does not replace',
      onePipeline('mode: upsert\nkey: [id]\nreplace: { minRows: 0 }'),
      "inlet.config.yaml: pipelines[0].replace: replace options apply only to mode: replace (this pipeline's mode is upsert)",
    ],
  ])('refuses %s, naming the key', (_, text, message) => {
    const error = errorOf(text);
    const line = error.message.split('\n').find((candidate) => candidate.startsWith(message));
    expect(line, error.message).toBeDefined();
  });
});
