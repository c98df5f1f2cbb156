/**
 * The shape of inlet.config.yaml (every key is described in docs/configuration.md), as zod schemas whose output is the
 * validated InletConfig the engine works from. A pipeline's field-level rules live in pipeline-schema.ts; rules
 * that relate several fields of one pipeline live in pipeline.ts.
 */
import { z } from 'zod';
import type { InletConfig } from '../model/contract.js';
import { buildPipeline } from './pipeline.js';
import { rawPipeline } from './pipeline-schema.js';
import { strict } from './strict-object.js';

const count = z.number().int().min(0);

const snapshots = strict({
  schedule: z
    .string()
    .refine((cron) => cron.trim().split(/\s+/).length === 5, {
      error: 'expected a cron expression of 5 fields, e.g. "0 * * * *"',
    })
    .optional(),
  retention: strict({
    last: count.optional(),
    daily: count.optional(),
    weekly: count.optional(),
    monthly: count.optional(),
  }).optional(),
});

export const configSchema = strict({
  pipelines: z.array(rawPipeline.transform(buildPipeline)).min(1, 'must list at least one pipeline'),
  snapshots: snapshots.optional(),
})
  .superRefine((config, ctx) => {
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
  })
  .transform((config): InletConfig => {
    // Leave `snapshots` out entirely when absent rather than present-but-undefined.
    const { snapshots: snapshotConfig, ...rest } = config;
    return snapshotConfig === undefined ? rest : { ...rest, snapshots: snapshotConfig };
  });
