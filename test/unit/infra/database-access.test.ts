/**
 * Who logs in to PostgreSQL as whom, on the default deployment: a least-privilege role per path, each
 * with its own secret, created (with its grants) by a deploy-time set-up before anything rotates; the
 * master user only for that set-up; every secret rotated by a function that reaches Secrets Manager at its
 * documented endpoint, and a failed rotation of any of them raises an alarm. What the roles may do in the
 * database is tested against PostgreSQL itself (test/integration/db/database-roles.test.ts).
 */
import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { INGEST_ROLE, STATUS_ROLE } from '../../../infra/functions/database-roles.js';
import { flatten, resourcesOf, synthInlet } from './harness.js';
import { allowedActions } from './policy-scan.js';

const inlet = synthInlet();
const { stacks } = inlet;
if (!stacks.serverless || !stacks.server) throw new Error('the default deployment has both shapes');
const data = inlet.template(stacks.data);
const extensions = inlet.template(stacks.extensions);
const serverless = inlet.template(stacks.serverless);
const server = inlet.template(stacks.server);

const logicalId = (secret: secretsmanager.ISecret) =>
  stacks.data.getLogicalId(secret.node.defaultChild as CfnElement);
const master = logicalId(stacks.data.masterSecret);
const ingest = logicalId(stacks.data.ingestSecret);
const status = logicalId(stacks.data.statusSecret);

/** Which of the three secrets the roles whose logical ids start with `prefix` may read. */
function secretsReadBy(template: Template, prefix: string): string[] {
  const resources = flatten(allowedActions(template, prefix).get('secretsmanager:GetSecretValue') ?? []);
  return [
    ['master', master],
    ['ingest', ingest],
    ['status', status],
  ].flatMap(([name, id]) => (resources.includes(id as string) ? [name as string] : []));
}

describe('database roles', () => {
  it('keeps a secret per user: the master, the ingest role and the status role', () => {
    const usernames = resourcesOf(data, 'AWS::SecretsManager::Secret').map(
      (secret) =>
        JSON.parse(
          (secret.properties.GenerateSecretString as { SecretStringTemplate: string }).SecretStringTemplate,
        ).username,
    );
    expect(usernames.sort()).toEqual(['inlet', INGEST_ROLE, STATUS_ROLE].sort());
  });

  it('creates the roles at deploy time, reading all three secrets, before any secret rotates', () => {
    const [setUp, ...others] = resourcesOf(data, 'Custom::InletDatabaseRoles');
    expect(others).toHaveLength(0);
    expect(setUp?.properties).toMatchObject({
      DatabaseName: 'inlet',
      MasterSecretArn: { Ref: master },
      IngestSecretArn: { Ref: ingest },
      StatusSecretArn: { Ref: status },
      Migrations: expect.stringMatching(/^1,2,3,/),
    });
    expect(secretsReadBy(data, 'RolesSetup')).toEqual(['master', 'ingest', 'status']);
    const rotations = Object.entries(data.findResources('AWS::Serverless::Application'));
    expect(rotations).toHaveLength(3);
    for (const [id, rotation] of rotations) {
      expect((rotation as { DependsOn?: string[] }).DependsOn, id).toContain(setUp?.id);
    }
  });

  it('lets the set-up reach the instance, which it waits for', () => {
    const setUpId = resourcesOf(data, 'Custom::InletDatabaseRoles')[0]?.id ?? '';
    const dependsOn = (data.toJSON().Resources[setUpId] as { DependsOn?: string[] }).DependsOn ?? [];
    const access = resourcesOf(data, 'AWS::EC2::SecurityGroupIngress').filter((rule) =>
      flatten(rule.properties.SourceSecurityGroupId).includes('RolesSetupSecurityGroup'),
    );
    expect(access).toHaveLength(1);
    expect(access[0]?.properties).toMatchObject({ FromPort: 5432, ToPort: 5432 });
    expect(flatten(access[0]?.properties.GroupId)).toMatch(/DatabaseSecurityGroup/);
    expect(dependsOn).toContain(access[0]?.id);
  });

  it('lets the proxy log in as the two roles only, never as the master user', () => {
    const [proxy] = resourcesOf(data, 'AWS::RDS::DBProxy');
    const secrets = ((proxy?.properties.Auth ?? []) as Array<{ SecretArn: unknown }>).map((auth) =>
      flatten(auth.SecretArn),
    );
    expect(secrets.sort()).toEqual([`\${Ref:${ingest}}`, `\${Ref:${status}}`].sort());
    expect(secretsReadBy(data, 'ProxyIAMRole')).toEqual(['ingest', 'status']);
  });

  it("gives each path its own role's secret: ingest for the function and the servers, status for the API", () => {
    expect(secretsReadBy(serverless, 'IngestFunction')).toEqual(['ingest']);
    expect(secretsReadBy(server, 'Role')).toEqual(['ingest']);
    expect(secretsReadBy(extensions, 'ApiStatus')).toEqual(['status']);
    expect(secretsReadBy(extensions, 'ApiPresign')).toEqual([]);
    const environments = [
      ...resourcesOf(serverless, 'AWS::Lambda::Function'),
      ...resourcesOf(extensions, 'AWS::Lambda::Function'),
    ].map((fn) =>
      flatten((fn.properties.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}),
    );
    expect(environments.filter((env) => env.includes(ingest))).toHaveLength(1);
    expect(environments.filter((env) => env.includes(status))).toHaveLength(1);
    expect(environments.some((env) => env.includes(master))).toBe(false);
    // The instances' environment (user data or the release's parameters) names the ingest secret only.
    const serverStack = flatten(server.toJSON());
    const secretVariable = serverStack.indexOf('INLET_DATABASE_SECRET_ARN=');
    expect(secretVariable).toBeGreaterThan(-1);
    expect(serverStack.slice(secretVariable, secretVariable + 200)).toContain(ingest);
    expect(serverStack).not.toContain(master);
  });
});

/** The logical ids of the rotated secrets, which the Extensions stack's references to them contain. */
function secretReferences(): string[] {
  return stacks.data.rotatedSecrets.map(logicalId);
}

describe('secret rotation', () => {
  const rotations = resourcesOf(data, 'AWS::Serverless::Application');

  it('rotates every secret through a function that uses the documented Secrets Manager endpoint', () => {
    expect(rotations.length).toBe(stacks.data.rotatedSecrets.length);
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
