/**
 * The database's secrets on the default deployment: rotated by functions that reach Secrets Manager at its
 * documented endpoint, and a failed rotation of any of them raises an alarm.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { flatten, resourcesOf, synthInlet } from './harness.js';

const inlet = synthInlet();
const data = inlet.template(inlet.stacks.data);
const extensions = inlet.template(inlet.stacks.extensions);

/** The logical ids of the rotated secrets, which the Extensions stack's references to them contain. */
function secretReferences(): string[] {
  return inlet.stacks.data.rotatedSecrets.map((secret) =>
    inlet.stacks.data.getLogicalId(secret.node.defaultChild as CfnElement),
  );
}

describe('secret rotation', () => {
  const rotations = resourcesOf(data, 'AWS::Serverless::Application');

  it('rotates every secret through a function that uses the documented Secrets Manager endpoint', () => {
    expect(rotations.length).toBe(inlet.stacks.data.rotatedSecrets.length);
    for (const rotation of rotations) {
      const parameters = rotation.properties.Parameters as Record<string, unknown>;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: flatten() writes references this way
      expect(flatten(parameters.endpoint)).toBe('https://secretsmanager.us-east-1.${Ref:AWS::URLSuffix}');
      expect(flatten(parameters.endpoint)).not.toContain('vpce');
    }
    const schedules = resourcesOf(data, 'AWS::SecretsManager::RotationSchedule');
    expect(schedules.length).toBe(rotations.length);
    for (const schedule of schedules) {
      expect(schedule.properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    }
  });

  it("takes every rotated secret's RotationFailed events into a queue and alarms while it holds one", () => {
    const rules = resourcesOf(extensions, 'AWS::Events::Rule').filter((rule) =>
      JSON.stringify(rule.properties.EventPattern).includes('RotationFailed'),
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.properties ?? {};
    const pattern = rule.EventPattern as {
      source: string[];
      'detail-type': string[];
      detail: { eventName: string[]; additionalEventData: { SecretId: unknown[] } };
    };
    expect(pattern.source).toEqual(['aws.secretsmanager']);
    expect(pattern['detail-type']).toEqual(['AWS Service Event via CloudTrail']);
    expect(pattern.detail.eventName).toEqual(['RotationFailed']);
    const named = pattern.detail.additionalEventData.SecretId.map(flatten);
    expect(named).toHaveLength(secretReferences().length);
    for (const id of secretReferences()) expect(named.some((one) => one.includes(id))).toBe(true);

    const [target] = rule.Targets as Array<{ Arn: { 'Fn::GetAtt': [string, string] } }>;
    const queueId = target?.Arn['Fn::GetAtt'][0];
    expect(queueId).toBeDefined();
    const alarm = resourcesOf(extensions, 'AWS::CloudWatch::Alarm').find((one) =>
      one.id.includes('SecretRotationFailed'),
    );
    expect(alarm?.properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(JSON.stringify(alarm?.properties.Dimensions)).toContain(String(queueId));
    expect(alarm?.properties.AlarmActions).toHaveLength(1);
  });
});
