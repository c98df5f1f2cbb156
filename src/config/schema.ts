/**
 * The shape of inlet.config.yaml (every key is described in docs/configuration.md), as zod schemas whose output is the
 * validated InletConfig the engine works from. A pipeline's field-level rules live in pipeline-schema.ts; rules
 * that relate several fields of one pipeline live in pipeline.ts.
 */
import * as z from 'zod/mini';
import type { InletConfig } from '../model/contract.js';
import { issueSink } from './issue-sink.js';
import { buildPipeline } from './pipeline.js';
import { rawPipeline } from './pipeline-schema.js';
import { strict } from './strict-object.js';

const count = z.number().check(z.int(), z.minimum(0));

const snapshots = strict({
  schedule: z.optional(
    z.string().check(
      z.refine((cron) => cron.trim().split(/\s+/).length === 5, {
        error: 'expected a cron expression of 5 fields, e.g. "0 * * * *"',
      }),
    ),
  ),
  retention: z.optional(
    strict({
      last: z.optional(count),
      daily: z.optional(count),
      weekly: z.optional(count),
      monthly: z.optional(count),
    }),
  ),
});

const checkedConfig = strict({
  pipelines: z
    .array(
      z.pipe(
        rawPipeline,
        z.transform((raw, payload) => buildPipeline(raw, issueSink(payload))),
      ),
    )
    .check(z.minLength(1, 'must list at least one pipeline')),
  snapshots: z.optional(snapshots),
}).check(
  z.superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.pipelines.forEach((pipeline, index) => {
      const first = seen.get(pipeline.name);
      if (first === undefined) seen.set(pipeline.name, index);
      else {
        ctx.addIssue({
          code: 'custom',
          path: ['pipelines', index, 'name'],
          message: `duplicate pipeline name "${pipeline.name}" (also pipelines[${first}])`,
        });
      }
    });
  }),
);

export const configSchema = z.pipe(
  checkedConfig,
  z.transform((config): InletConfig => {
    // Leave `snapshots` out entirely when absent rather than present-but-undefined.
    const { snapshots: snapshotConfig, ...rest } = config;
    return snapshotConfig === undefined ? rest : { ...rest, snapshots: snapshotConfig };
  }),
);
