/**
 * Builds the Inlet CDK app the way `npm run synth` does (cdk.json's feature flags, the same stacks), with
 * stub bundles so that no build step is needed, synthesises it once, and hands out its templates.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { AwsSolutionsChecks } from 'cdk-nag';
import { buildInlet, type InletStacks } from '../../../infra/inlet.js';
import { addNagChecks } from '../../../infra/nag.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

/** Directories standing in for dist-deploy/lambda and dist-deploy/server: the templates do not depend on their content. */
function stubBundles(): { lambdaCodeDir: string; serverBundleDir: string; taskImageDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'inlet-infra-test-'));
  const lambdaCodeDir = join(root, 'lambda');
  const serverBundleDir = join(root, 'server');
  mkdirSync(lambdaCodeDir);
  mkdirSync(join(serverBundleDir, 'lib', 'cli'), { recursive: true });
  writeFileSync(join(lambdaCodeDir, 'index.mjs'), 'export const handler = async () => undefined;\n');
  writeFileSync(join(serverBundleDir, 'lib', 'cli', 'main.mjs'), '// stub\n');
  writeFileSync(join(serverBundleDir, 'package.json'), '{"type":"module"}\n');
  // The task image's build context is staged (copied) at synthesis, never built: a stub keeps that instant.
  const taskImageDir = join(root, 'image');
  mkdirSync(taskImageDir);
  writeFileSync(join(taskImageDir, 'Dockerfile'), 'FROM scratch\n');
  return { lambdaCodeDir, serverBundleDir, taskImageDir };
}

export interface SynthesizedInlet {
  readonly app: App;
  readonly stacks: InletStacks;
  /** What the app would have printed on stderr about its settings. */
  readonly report: string;
  /** The registered AwsSolutions checks (with `nag: true`), to run again and list what they find. */
  readonly checks: AwsSolutionsChecks | undefined;
  /** The stack's template (the app is synthesised once; this only reads it). */
  template(stack: Stack): Template;
  /** Every stack's template, keyed by stack name. */
  templates(): Map<string, Template>;
}

export interface SynthOptions {
  /**
   * Also run CloudFormation's default rules as errors, as `npm run synth` does (cdk.json). It costs seconds
   * per synthesis, so only the validation tests turn it on.
   * @default false
   */
  readonly cloudFormationRules?: boolean;
  /** Register the cdk-nag AwsSolutions checks as the app does: synthesis then fails on any finding. */
  readonly nag?: boolean;
}

export function synthInlet(
  context: Record<string, unknown> = {},
  options: SynthOptions = {},
): SynthesizedInlet {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'inlet-cdk-out-')),
    context: {
      ...cdkJson.context,
      ...(options.cloudFormationRules ? {} : { '@aws-cdk/core:validateAgainstDefaultRules': false }),
      region: 'us-east-1',
      ...stubBundles(),
      ...context,
    },
  });
  const reports: string[] = [];
  const stacks = buildInlet(app, (text) => reports.push(text));
  const checks = options.nag ? addNagChecks(app) : undefined;
  app.synth();
  const all = (): Stack[] =>
    [stacks.network, stacks.data, stacks.serverless, stacks.server, stacks.backups, stacks.extensions].filter(
      (stack): stack is NonNullable<typeof stack> => stack !== undefined,
    );
  return {
    app,
    stacks,
    report: reports.join(''),
    checks,
    template: (stack) => Template.fromStack(stack),
    templates: () => new Map(all().map((stack) => [stack.stackName, Template.fromStack(stack)])),
  };
}

/** A resource's properties by type, for assertions that need to look at every one. */
export function resourcesOf(
  template: Template,
  type: string,
): Array<{ id: string; properties: Record<string, unknown> }> {
  return Object.entries(template.findResources(type)).map(([id, resource]) => ({
    id,
    properties: ((resource as { Properties?: Record<string, unknown> }).Properties ?? {}) as Record<
      string,
      unknown
    >,
  }));
}

/** Every acknowledged rule in the app: where, which rule, and the reason given. */
export function acknowledgments(app: App): Array<{ path: string; rule: string; reason: string }> {
  const found: Array<{ path: string; rule: string; reason: string }> = [];
  for (const construct of app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [rule, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, rule: rule.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

/**
 * A CloudFormation value with its intrinsics flattened to readable text (`${Ref:X}`, `${X.Arn}`), for
 * asserting on user data and joined strings.
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(flatten).join(',');
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ('Fn::Base64' in object) return flatten(object['Fn::Base64']);
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    if ('Fn::Sub' in object && typeof object['Fn::Sub'] === 'string') return object['Fn::Sub'];
    if ('Ref' in object) return `\${Ref:${String(object.Ref)}}`;
    if ('Fn::GetAtt' in object) return `\${${(object['Fn::GetAtt'] as string[]).join('.')}}`;
    // A strong cross-stack reference: the export's name starts with the producing stack's name.
    if ('Fn::ImportValue' in object) return `\${${flatten(object['Fn::ImportValue'])}}`;
    return JSON.stringify(object);
  }
  return '';
}
