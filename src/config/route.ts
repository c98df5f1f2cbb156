/**
 * Which pipeline takes an object: the one named explicitly, else the first whose `match` globs
 * match the object's name or its basename (so `*.orders.csv` works whatever folder the file is in).
 * A local file may go by several names (the path relative to the working directory, as typed, and
 * absolute): a pipeline takes it when a glob matches any of them, so a glob for any `orders` folder takes
 * `/data/incoming/orders/x.csv` however far that lies from the working directory.
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

/** An object's key, or a local file's names, the first being the one shown to the user. */
export type RouteNames = string | readonly string[];

function namesOf(names: RouteNames): readonly string[] {
  return typeof names === 'string' ? [names] : names;
}

export function findPipeline(
  config: InletConfig,
  objectNames: RouteNames,
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
  const candidates = new Set<string>();
  for (const name of namesOf(objectNames).map(normalise)) candidates.add(name).add(posix.basename(name));
  // Config order decides between pipelines; any of the object's names will do for one.
  return config.pipelines.find((pipeline) => {
    const matches = matcherFor(pipeline);
    for (const candidate of candidates) if (matches(candidate)) return true;
    return false;
  });
}

/** What to tell the user when nothing matched: the globs that were tried and the way out. */
export function noPipelineMessage(config: InletConfig, objectNames: RouteNames): string {
  const [shown = '', ...others] = [...new Set(namesOf(objectNames))];
  const tried = others.length === 0 ? '' : ` (nor as ${others.map((name) => `"${name}"`).join(', ')})`;
  const routes = config.pipelines
    .map((pipeline) =>
      pipeline.match.length === 0
        ? `${pipeline.name} (no match globs)`
        : `${pipeline.name} (${pipeline.match.join(', ')})`,
    )
    .join('; ');
  return `no pipeline matches "${shown}"${tried}; pipelines and their match globs: ${routes}. Name one with --pipeline NAME, or add a glob to its match.`;
}
