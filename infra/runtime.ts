/** The one Lambda runtime of the app's functions, and why it is not the newest one CDK knows. */
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { acknowledge } from './nag.js';

/** scripts/build-lambda.mjs and infra/functions bundle for `node22`. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_22_X;

export function acknowledgeNodeRuntime(fn: IConstruct): void {
  acknowledge(
    fn,
    'L1',
    'Node.js 22 is the Lambda runtime this project targets and tests (the issue asks for it; the bundles are ' +
      'built for node22), and it is in AWS support until 2027-04; moving to Node.js 24 is a deliberate upgrade ' +
      'of scripts/build-lambda.mjs, infra/runtime.ts and the tests together.',
  );
}
