/**
 * Scans every policy document of a template — identity policies (roles' inline policies, policies,
 * managed policies) and resource policies (bucket, queue, topic) — for Allow statements on `Resource: "*"`
 * or with wildcard actions. KMS key policies are not scanned: there "*" means the key itself.
 */
import type { Template } from 'aws-cdk-lib/assertions';

/** The only actions allowed on "*", each because AWS offers no narrower resource for it. */
export const STAR_ONLY_ACTIONS: Readonly<Record<string, string>> = {
  'ec2:CreateNetworkInterface': 'Lambda creates the function ENIs; they have no ARN before they exist',
  'ec2:DescribeNetworkInterfaces': 'EC2 Describe* actions support no resource-level permissions',
  'ec2:DescribeSubnets': 'EC2 Describe* actions support no resource-level permissions',
  'ec2:DeleteNetworkInterface':
    'the ENIs Lambda deletes are the ones it created, with ids unknown at deploy time',
  'ec2:AssignPrivateIpAddresses': 'acts on the Lambda-created ENIs, unknown at deploy time',
  'ec2:UnassignPrivateIpAddresses': 'acts on the Lambda-created ENIs, unknown at deploy time',
  'cloudwatch:PutMetricData': 'supports only "*"; limited by the cloudwatch:namespace condition instead',
  'ec2:DescribeVolumes': 'EC2 Describe* actions support no resource-level permissions',
  'elasticloadbalancing:DescribeTargetHealth': 'Describe* actions of Elastic Load Balancing accept only "*"',
  'ecr:GetAuthorizationToken':
    'ECS pulls the hand-over image with a registry token, which ECR issues for the account, never a repository',
};

export interface WildcardUse {
  readonly resource: string;
  readonly kind: 'star-resource' | 'wildcard-action';
  readonly actions: readonly string[];
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
}

const POLICY_PATHS: Record<string, (properties: Record<string, unknown>) => unknown[]> = {
  'AWS::IAM::Role': (p) =>
    ((p.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []).map((x) => x.PolicyDocument),
  'AWS::IAM::Policy': (p) => [p.PolicyDocument],
  'AWS::IAM::ManagedPolicy': (p) => [p.PolicyDocument],
  'AWS::S3::BucketPolicy': (p) => [p.PolicyDocument],
  'AWS::SQS::QueuePolicy': (p) => [p.PolicyDocument],
  'AWS::SNS::TopicPolicy': (p) => [p.PolicyDocument],
};

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const IDENTITY_POLICY_TYPES = ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'];

/** Every Allow statement in the policy documents of resources of `types`, with the resource's logical id. */
function* allowStatements(
  template: Template,
  types: readonly string[],
): Generator<{ readonly id: string; readonly statement: Statement }> {
  for (const type of types) {
    const documentsOf = POLICY_PATHS[type];
    if (documentsOf === undefined) continue;
    for (const [id, resource] of Object.entries(template.findResources(type))) {
      const properties = ((resource as { Properties?: Record<string, unknown> }).Properties ?? {}) as Record<
        string,
        unknown
      >;
      for (const document of documentsOf(properties)) {
        for (const statement of asArray((document as { Statement?: Statement[] }).Statement)) {
          if (statement.Effect === 'Allow') yield { id, statement };
        }
      }
    }
  }
}

/** Every Allow statement's use of "*" that the allow-list does not explain. */
export function unexplainedWildcards(template: Template): WildcardUse[] {
  const uses: WildcardUse[] = [];
  for (const { id, statement } of allowStatements(template, Object.keys(POLICY_PATHS))) {
    const actions = asArray(statement.Action);
    const wildcardActions = actions.filter((action) => action.includes('*'));
    if (wildcardActions.length > 0)
      uses.push({ resource: id, kind: 'wildcard-action', actions: wildcardActions });
    if (asArray(statement.Resource).includes('*')) {
      const unexplained = actions.filter((action) => STAR_ONLY_ACTIONS[action] === undefined);
      if (unexplained.length > 0) uses.push({ resource: id, kind: 'star-resource', actions: unexplained });
    }
  }
  return uses;
}

/** All Allow statements of identity policies, flattened: for asserting what a role may do. */
export function allowedActions(template: Template, logicalIdPrefix: string): Map<string, unknown[]> {
  const byAction = new Map<string, unknown[]>();
  for (const { id, statement } of allowStatements(template, IDENTITY_POLICY_TYPES)) {
    if (!id.startsWith(logicalIdPrefix)) continue;
    for (const action of asArray(statement.Action)) {
      byAction.set(action, [...(byAction.get(action) ?? []), ...asArray(statement.Resource)]);
    }
  }
  return byAction;
}
