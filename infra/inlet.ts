/**
 * Composes the stacks for the settings in context: Network and Data always, Serverless and Server by
 * `shape`, Backups and Extensions on top. Tests build the same app through this function.
 */
import { type App, Tags } from 'aws-cdk-lib';
import { readPipelineConfig } from './pipeline-config.js';
import { type InletSettings, readSettings } from './settings.js';
import { describeSettings } from './settings-report.js';
import { BackupsStack } from './stacks/backups-stack.js';
import { DataStack } from './stacks/data-stack.js';
import { ExtensionsStack } from './stacks/extensions-stack.js';
import { NetworkStack } from './stacks/network-stack.js';
import { ServerStack } from './stacks/server-stack.js';
import { ServerlessStack } from './stacks/serverless-stack.js';

export interface InletStacks {
  readonly settings: InletSettings;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly serverless: ServerlessStack | undefined;
  readonly server: ServerStack | undefined;
  readonly backups: BackupsStack;
  readonly extensions: ExtensionsStack;
}

/** `report` gets what the settings chose, in words (the app prints it on stderr). */
export function buildInlet(
  app: App,
  report: (text: string) => void = (text) => process.stderr.write(text),
): InletStacks {
  const settings = readSettings(app.node);
  report(describeSettings(settings));
  const pipelines = readPipelineConfig(settings.configFile);
  const p = settings.prefix;
  const common = {
    env: { region: settings.region },
    terminationProtection: settings.stackTerminationProtection,
  };
  const network = new NetworkStack(app, `${p}Network`, {
    ...common,
    settings,
    description: 'Inlet: VPC, endpoints and flow logs',
  });
  const data = new DataStack(app, `${p}Data`, {
    ...common,
    settings,
    network,
    description: 'Inlet: RDS PostgreSQL, its secret and proxy, ingestion events',
  });
  const serverless =
    settings.shape === 'server'
      ? undefined
      : new ServerlessStack(app, `${p}Serverless`, {
          ...common,
          settings,
          pipelines,
          network,
          data,
          description: 'Inlet serverless shape: inbox bucket, SQS, ingest Lambda',
        });
  const server =
    settings.shape === 'serverless'
      ? undefined
      : new ServerStack(app, `${p}Server`, {
          ...common,
          settings,
          pipelines,
          network,
          data,
          description: 'Inlet server shape: EC2 upload service with EBS spool behind a load balancer',
        });
  const backups = new BackupsStack(app, `${p}Backups`, {
    ...common,
    settings,
    description: 'Inlet: AWS Backup plans for the spool volumes and the database',
  });
  const extensions = new ExtensionsStack(app, `${p}Extensions`, {
    ...common,
    settings,
    network,
    data,
    backups,
    serverless,
    server,
    description: 'Inlet: upload API, dashboard and alarms',
  });
  Tags.of(app).add('app', 'inlet');
  return { settings, network, data, serverless, server, backups, extensions };
}
