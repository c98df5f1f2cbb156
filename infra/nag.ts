/**
 * cdk-nag's AwsSolutions pack and the one way this app acknowledges a finding: on the narrowest
 * construct, for one rule (or one finding of a rule), with the reason it does not apply.
 */
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** Registers the AwsSolutions checks: synthesis then fails on any unacknowledged finding. */
export function addNagChecks(app: App): AwsSolutionsChecks {
  const checks = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(checks);
  return checks;
}

/**
 * Acknowledges `AwsSolutions-<rule>` on `scope` and everything under it. `rule` may name a single
 * finding, e.g. `IAM5[Resource::*]`.
 */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/**
 * Acknowledges the IAM5 finding for one wildcard resource, e.g. `${bucket.bucketArn}/*`, written the way
 * cdk-nag writes it (`<InboxBucket1234.Arn>/*`). The resource must belong to the same stack as `scope`.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flattenCfnReference(Stack.of(scope).resolve(resource));
  acknowledge(scope, `IAM5[Resource::${flat}]`, reason);
}
