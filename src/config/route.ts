/**
 * Which pipeline takes an object: the one named explicitly, else the first whose `match` globs
 * match the object's name or its basename (so `*.orders.csv` works whatever folder the file is in).
 */
import { posix } from 'node:path';
import picomatch from 'picomatch';
import { UsageError } from '../errors.js';
import type { InletConfig, Pipeline } from '../model/contract.js';

type Matcher = (name: string) => boolean;
const matchers = new WeakMap<Pipeline, Matcher>();

function matcherFor(pipeline: Pipeline): Matcher {
  let matcher = matchers.get(pipeline);
  if (matcher === undefined) {
    // flags 's': a `*` or `**` spans a newline too, which an S3 key or a file name may hold; without it such
    // an object matched no pipeline and was acknowledged with nothing in the ledger.
    matcher =
      pipeline.match.length === 0 ? () => false : picomatch([...pipeline.match], { dot: true, flags: 's' });
    matchers.set(pipeline, matcher);
  }
  return matcher;
}

/** Object keys use `/`; a Windows path or a `./` prefix should still match the same globs. */
function normalise(name: string): string {
  return name.replaceAll('\\', '/').replace(/^(\.\/)+/, '');
}

export function findPipeline(
  config: InletConfig,
  objectName: string,
  explicitName?: string,
): Pipeline | undefined {
  if (explicitName !== undefined) {
    const pipeline = config.pipelines.find((candidate) => candidate.name === explicitName);
    if (pipeline === undefined) {
      const known = config.pipelines.map((candidate) => candidate.name).join(', ');
      throw new UsageError(
        'unknown_pipeline',
        `unknown pipeline "${explicitName}"; known pipelines: ${known}`,
      );
    }
    return pipeline;
  }
  const name = normalise(objectName);
  const base = posix.basename(name);
  return config.pipelines.find((pipeline) => {
    const matches = matcherFor(pipeline);
    return matches(name) || matches(base);
  });
}

/** What to tell the user when nothing matched: the globs that were tried and the way out. */
export function noPipelineMessage(config: InletConfig, objectName: string): string {
  const routes = config.pipelines
    .map((pipeline) =>
      pipeline.match.length === 0
        ? `${pipeline.name} (no match globs)`
        : `${pipeline.name} (${pipeline.match.join(', ')})`,
    )
    .join('; ');
  return `no pipeline matches "${objectName}"; pipelines and their match globs: ${routes}. Name one with --pipeline NAME, or add a glob to its match.`;
}
