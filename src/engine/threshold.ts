import type { RejectPolicy } from '../model/contract.js';

export interface ThresholdVerdict {
  /** The file is past the pipeline's tolerance and must not load. */
  readonly rejected: boolean;
  /** Known before the end of the file: no later good row can bring it back under the limit. */
  readonly early: boolean;
  readonly message: string;
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(ratio < 0.001 ? 3 : 1)}%`;

/** Applies `rejects.maxRatio` and `rejects.maxRejects` (either one exceeded rejects the file). */
export function thresholdVerdict(policy: RejectPolicy, rejected: number, records: number): ThresholdVerdict {
  const maxRatio = policy.maxRatio ?? (policy.maxRejects === undefined ? 0 : undefined);
  const overCount = policy.maxRejects !== undefined && rejected > policy.maxRejects;
  const ratio = records === 0 ? 0 : rejected / records;
  const overRatio = maxRatio !== undefined && rejected > 0 && ratio > maxRatio;
  const early = overCount || (maxRatio === 0 && rejected > 0);
  const limit = overCount ? `rejects.maxRejects: ${policy.maxRejects}` : `rejects.maxRatio: ${maxRatio}`;
  const counted =
    early && !overCount
      ? `${rejected} row${rejected === 1 ? ' was' : 's were'} rejected`
      : `${rejected} of ${records} rows were rejected (${percent(ratio)})`;
  return {
    rejected: overCount || overRatio,
    early,
    message: `${counted}, more than the pipeline allows (${limit}); nothing was loaded.`,
  };
}
