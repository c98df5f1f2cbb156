/**
 * The hand-over on AWS: `ecs:RunTask` of the Fargate task definition that runs the same engine. The ECS
 * client is imported on the first hand-over only, so the function's bundle for ordinary files stays small
 * and quick to start (docs/benchmarks.md).
 */
import type { RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { InletError } from '../errors.js';
import { type HandOver, type HandOverRequest, ingestArguments } from './hand-over.js';

export interface EcsHandOverSettings {
  /** INLET_HANDOVER_CLUSTER: the cluster's name or ARN. */
  readonly cluster: string;
  /** INLET_HANDOVER_TASK_DEFINITION: family, family:revision or ARN. */
  readonly taskDefinition: string;
  /** INLET_HANDOVER_CONTAINER: the container whose command is overridden; default `inlet`. */
  readonly container: string;
  /** INLET_HANDOVER_SUBNETS: private subnets, comma-separated. */
  readonly subnets: readonly string[];
  /** INLET_HANDOVER_SECURITY_GROUPS: comma-separated. */
  readonly securityGroups: readonly string[];
  /** AWS_REGION, and an endpoint for tests (INLET_ECS_ENDPOINT). */
  readonly region?: string;
  readonly endpoint?: string;
}

/** The RunTask request for one object, as the ECS API documents it (RunTask, awsvpc, FARGATE). */
export function runTaskInput(settings: EcsHandOverSettings, request: HandOverRequest): RunTaskCommandInput {
  return {
    cluster: settings.cluster,
    taskDefinition: settings.taskDefinition,
    launchType: 'FARGATE',
    count: 1,
    // RunTask's idempotency token: a retried call (the SDK's, or the function's after a lost COMMIT within
    // ECS's window) starts the task once; a deliberate new attempt gets a new token.
    clientToken: `${request.ingestionId}/${request.attempt}`,
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: [...settings.subnets],
        securityGroups: [...settings.securityGroups],
        // Private subnets with VPC endpoints: the task needs no public address.
        assignPublicIp: 'DISABLED',
      },
    },
    overrides: {
      containerOverrides: [
        {
          name: settings.container,
          command: ingestArguments(request),
        },
      ],
    },
    // Found again by the ingestion: `aws ecs list-tasks --started-by` takes at most 36 characters.
    startedBy: request.ingestionId.slice(0, 36),
    tags: [
      { key: 'inlet:ingestion', value: request.ingestionId },
      { key: 'inlet:pipeline', value: request.pipeline },
    ],
  };
}

export function ecsHandOver(settings: EcsHandOverSettings): HandOver {
  let client: Promise<{ send: (input: RunTaskCommandInput) => Promise<RunTaskResult> }> | undefined;
  return {
    ranOn: 'task',
    async start(request) {
      client ??= ecsClient(settings);
      const output = await (await client).send(runTaskInput(settings, request));
      const failure = output.failures?.[0];
      const arn = output.tasks?.[0]?.taskArn;
      if (failure !== undefined || arn === undefined) {
        throw new HandOverFailedError(
          `ECS RunTask started no task for s3://${request.bucket}/${request.key} on ${settings.cluster}: ${
            failure
              ? `${failure.reason ?? 'no reason'}${failure.detail ? ` (${failure.detail})` : ''}`
              : 'no task ARN'
          }. The message is delivered again; check the cluster and task definition ${settings.taskDefinition}.`,
        );
      }
      return arn;
    },
  };
}

interface RunTaskResult {
  readonly tasks?: readonly { readonly taskArn?: string }[];
  readonly failures?: readonly { readonly reason?: string; readonly detail?: string }[];
}

async function ecsClient(
  settings: EcsHandOverSettings,
): Promise<{ send: (input: RunTaskCommandInput) => Promise<RunTaskResult> }> {
  const { ECSClient, RunTaskCommand } = await import('@aws-sdk/client-ecs');
  const ecs = new ECSClient({
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
  });
  return { send: (input) => ecs.send(new RunTaskCommand(input)) };
}

export class HandOverFailedError extends InletError {
  constructor(message: string) {
    super('handover_failed', message);
  }
}
