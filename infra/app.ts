/**
 * The Inlet CDK app: `npm run synth` (offline, into cdk.out/) or `npx cdk deploy --all`.
 * Settings come from CDK context (infra/settings.ts); the stacks are environment-agnostic, so the
 * same templates deploy to whatever account and region the AWS CLI is configured for.
 */
import { App } from 'aws-cdk-lib';
import { buildInlet } from './inlet.js';
import { addNagChecks } from './nag.js';

const app = new App();
buildInlet(app);
addNagChecks(app);
app.synth();
