/**
 * The pipeline config the deployment ships: validated at synth time with the app's own parser (a broken
 * config fails `cdk synth`, not the first upload), and read for what the IAM policies must allow.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig } from '../src/config/load.js';

export interface PipelineConfigFacts {
  /** Absolute path of the file, for the S3 asset. */
  readonly path: string;
  /** Some pipeline tags its objects after loading (`afterLoad: tag`). */
  readonly tagsObjects: boolean;
  /** Some pipeline moves its objects under processed/ or rejected/ (`afterLoad: move`). */
  readonly movesObjects: boolean;
}

export function readPipelineConfig(file: string): PipelineConfigFacts {
  const path = resolve(file);
  const config = parseConfig(readFileSync(path, 'utf8'), file);
  const modes = new Set(config.pipelines.map((pipeline) => pipeline.afterLoad));
  return { path, tagsObjects: modes.has('tag'), movesObjects: modes.has('move') };
}
