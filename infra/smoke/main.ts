/**
 * `npm run smoke`: one small file through every door a deployment has (or the local stack, --local),
 * each followed to its ledger row through a status API, and a pass/fail table with timings. Exit code 0
 * when every door tried passed, 1 when one failed (or none could be tried), 2 when the run could not
 * start (bad option, no stack outputs, no credentials). docs/deploy-aws.md describes it.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError } from 'commander';
import type { AwsCredentials } from '../functions/aws-signing.js';
import { awsDoors } from './aws-doors.js';
import { absentDoor, DOOR_IDS, type Door, type DoorId, SmokeError } from './door.js';
import { findLocalStack, localDoors } from './local-doors.js';
import { exitCode, reportTable } from './report.js';
import { runDoors } from './run.js';
import { DEFAULT_NAME, runId, smokeFile } from './smoke-file.js';
import { outputsFromCloudFormation, outputsFromFile } from './stack-outputs.js';

interface SmokeOptions {
  local: boolean;
  outputs?: string;
  prefix: string;
  region?: string;
  token?: string;
  doors?: DoorId[];
  file?: string;
  name: string;
  timeout?: number;
}

const DEFAULT_TIMEOUT_S = { aws: 300, local: 60 };
const POLL_MS = { aws: 2000, local: 200 };

export function smokeProgram(): Command {
  return new Command('npm run smoke --')
    .description(
      'Send one small file through every door the deployment has: S3 (a put into the inbox bucket), the API ' +
        "Gateway's presigned upload, and the upload service (HTTPS server); not the SFTP door yet (it needs a partner key). Follow " +
        "each file to its ledger row through a status API, and print a table: each door's result, how long " +
        'until the door acknowledged the file (sent) and until its ledger row was final (in ledger). A door ' +
        "passes when its file loaded. The deployment is read from its stacks' outputs (CloudFormation, with " +
        'your AWS credentials), or --local for the stack `npm start` runs.\n\n' +
        'Exit code: 0 every door tried passed; 1 a door failed, or no door could be tried; 2 the run could not start.',
    )
    .option(
      '--local',
      'the local stack (npm start) instead of a deployment: INLET_PORT, INLET_S3_PORT, INLET_DATA_DIR, INLET_HOST and INLET_INBOX_BUCKET as for npm start',
      false,
    )
    .option(
      '--outputs <file>',
      "read the stacks' outputs from this file (npx cdk deploy --all --outputs-file <file>) instead of asking CloudFormation",
    )
    .option('--prefix <prefix>', 'the stack name prefix the app was deployed with (-c prefix=…)', 'Inlet')
    .option('--region <region>', "the region deployed to (default: AWS_REGION, else your AWS profile's)")
    .option(
      '--token <token>',
      'an upload-service token for the server door (sudo inlet tokens create on an instance; default INLET_SMOKE_TOKEN)',
    )
    .option(
      '--doors <list>',
      `the doors to try, comma-separated, of ${DOOR_IDS.filter((id) => id !== 'sftp').join(', ')} (default: every deployed door)`,
      parseDoors,
    )
    .option('--file <path>', "the file to send (default: one order for the example config's orders pipeline)")
    .option(
      '--name <pattern>',
      'the name each door sends the file under, for your pipelines to match; {run} and {door} are replaced',
      DEFAULT_NAME,
    )
    .option(
      '--timeout <seconds>',
      `how long each door may take to show its file's final ledger row (default ${DEFAULT_TIMEOUT_S.aws}, ${DEFAULT_TIMEOUT_S.local} with --local)`,
      parseSeconds,
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  npm run smoke                                   # the stacks Inlet* in your default region',
        '  npm run smoke -- --region eu-west-1 --token "$TOKEN"',
        '  npx cdk deploy --all --outputs-file cdk-outputs.json && npm run smoke -- --outputs cdk-outputs.json',
        "  npm run smoke -- --file invoice.xlsx --name 'invoices/smoke-{run}-{door}.xlsx'",
        '  npm run smoke -- --local                        # against npm start',
        '',
        'The default file leaves one row per door in public.orders (order ids from 9<run time>, customer',
        '"Inlet smoke test"). The API door\'s file is stored under clients/<your IAM role>/. The server door',
        'needs a token and a route to the load balancer, which is internal unless deployed public.',
      ].join('\n'),
    )
    .exitOverride();
}

function parseDoors(value: string): DoorId[] {
  const doors = value.split(',').map((one) => one.trim());
  for (const door of doors) {
    if (!(DOOR_IDS as readonly string[]).includes(door) || door === 'sftp') {
      throw new InvalidArgumentError(`"${door}" is not a door; choose from s3, api, server.`);
    }
  }
  return doors as DoorId[];
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new InvalidArgumentError('give a number of seconds from 1 to 3600.');
  }
  return seconds;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = smokeProgram();
  let options: SmokeOptions;
  try {
    options = program.parse(argv, { from: 'node' }).opts<SmokeOptions>();
  } catch (error) {
    // --help and --version end here too, with code 0.
    return (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const environment = options.local ? 'local' : 'aws';
  const now = new Date();
  const run = runId(now);
  try {
    const body = options.file === undefined ? undefined : await readFile(options.file);
    const { doors, where } = options.local ? await local() : await deployed(options);
    process.stdout.write(`Inlet smoke test ${run}: ${where}\n\n`);
    const results = await runDoors(
      leaveOut(doors, options.doors),
      (door) => smokeFile({ name: options.name, ...(body ? { body } : {}) }, run, door, now),
      {
        timeoutMs: (options.timeout ?? DEFAULT_TIMEOUT_S[environment]) * 1000,
        pollMs: POLL_MS[environment],
      },
    );
    process.stdout.write(reportTable(results));
    return exitCode(results);
  } catch (error) {
    process.stderr.write(`npm run smoke: ${(error as Error).message}\n`);
    return 2;
  }
}

async function local(): Promise<{ doors: Door[]; where: string }> {
  const stack = await findLocalStack();
  return {
    doors: localDoors(stack),
    where: `the local stack (upload service ${stack.apiUrl}, S3 gateway ${stack.s3Endpoint}, bucket ${stack.bucket})`,
  };
}

async function deployed(options: SmokeOptions): Promise<{ doors: Door[]; where: string }> {
  const sdk = new S3Client(options.region === undefined ? {} : { region: options.region });
  const region = options.region ?? (await sdk.config.region().catch(() => undefined));
  if (!region)
    throw new SmokeError('no region: pass --region, or set AWS_REGION or a region in your AWS profile.');
  let credentials: AwsCredentials;
  try {
    credentials = await sdk.config.credentials();
  } catch (error) {
    throw new SmokeError(
      `no AWS credentials (${(error as Error).message}): aws sts get-caller-identity must work first.`,
    );
  }
  const outputs =
    options.outputs === undefined
      ? await outputsFromCloudFormation(options.prefix, region, credentials, AbortSignal.timeout(60_000))
      : outputsFromFile(JSON.parse(await readFile(options.outputs, 'utf8')), options.prefix);
  return {
    doors: awsDoors({
      prefix: options.prefix,
      region,
      outputs,
      credentials,
      token: options.token ?? (process.env.INLET_SMOKE_TOKEN || undefined),
    }),
    where: `stacks ${options.prefix}* in ${region}${options.outputs ? ` (outputs from ${options.outputs})` : ''}`,
  };
}

/** Doors not in --doors are not tried; a door asked for but not deployed stays "not deployed". */
function leaveOut(doors: readonly Door[], wanted: readonly DoorId[] | undefined): Door[] {
  if (wanted === undefined) return [...doors];
  return doors.map((door) =>
    wanted.includes(door.id) || door.absent !== undefined
      ? door
      : absentDoor(door.id, { result: 'left out', why: `not in --doors ${wanted.join(',')}` }),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv);
}
