/** JSON schemas shared by the routes (they also make the OpenAPI document). */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export const ingestionSchema = {
  type: 'object',
  required: ['id', 'status'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    pipeline: { type: ['string', 'null'] },
    source: { type: ['string', 'null'] },
    status: {
      type: 'string',
      enum: ['queued', 'processing', 'loaded', 'duplicate', 'superseded', 'rejected', 'failed'],
    },
    rowsLoaded: { type: 'integer' },
    rowsRejected: { type: 'integer' },
    bytes: { type: ['integer', 'null'] },
    sha256: { type: ['string', 'null'] },
    duplicateOf: { type: ['string', 'null'] },
    receivedAt: { type: ['string', 'null'], format: 'date-time' },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    durationMs: { type: ['integer', 'null'] },
    lagMs: { type: ['integer', 'null'] },
    door: {
      type: 'string',
      enum: ['http', 'sftp', 's3', 'cli', 'other'],
      description: 'The door the file came through, read from its source URI.',
    },
    sftpUser: { type: 'string', description: 'The SFTP user that put the file (door sftp).' },
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    contractChange: {
      description:
        'Under onDrift: evolve, the contract version this file created: the columns it added to the table and the DDL that added them.',
      type: 'object',
      required: ['version', 'columns', 'ddl'],
      properties: {
        version: { type: 'integer' },
        columns: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'type', 'source'],
            properties: {
              name: { type: 'string' },
              type: { type: 'string' },
              source: { type: 'string' },
              format: { type: 'string' },
            },
          },
        },
        ddl: { type: 'string' },
      },
    },
    handOver: {
      description:
        'Where a front door handed the file to be loaded (an object too big for the Lambda function): ranOn `task` (an ECS Fargate task), `child` (inlet dev) or `server`, why, which attempt, and the runner (the task ARN).',
      type: 'object',
      required: ['ranOn'],
      properties: {
        ranOn: { type: 'string', enum: ['task', 'child', 'server'] },
        from: { type: 'string' },
        reason: { type: 'string' },
        attempt: { type: 'integer' },
        runId: { type: 'string' },
        at: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;
