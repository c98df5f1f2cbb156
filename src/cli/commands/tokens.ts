import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { databaseUrlOption, examples, jsonOption, parsePositiveInteger, repeatable } from '../options.js';

export function registerTokens(program: Command, action: Action): void {
  const tokens = program
    .command('tokens')
    .summary('create, list and revoke upload API tokens')
    .description(
      'Manage the bearer tokens the upload API accepts. Only a hash of each token is stored: a token is shown once, when it is created.',
    )
    .addOption(databaseUrlOption())
    .addHelpText(
      'after',
      examples(
        'inlet tokens create --name ci-uploads --pipeline orders',
        'inlet tokens list',
        'inlet tokens revoke 3f2c9a1e-0c4b-4d8e-9a57-2b1f0e6d7c88',
      ),
    );

  tokens
    .command('create')
    .summary('create a token and print it once')
    .description(
      'Create a bearer token for the upload API and print it. It cannot be shown again: store it now.',
    )
    .requiredOption('--name <name>', 'what the token is for (shown by inlet tokens list)')
    .option(
      '--pipeline <name>',
      'allow only this pipeline; repeat for several (default: every pipeline)',
      repeatable,
    )
    .option('--expires-in <days>', 'expire after this many days (default: never)', parsePositiveInteger)
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      examples(
        'inlet tokens create --name ci-uploads',
        'inlet tokens create --name acme --pipeline orders --pipeline refunds --expires-in 90 --json',
      ),
    )
    .action(action(later(async () => (await import('../run/tokens.js')).runCreate)));

  tokens
    .command('list')
    .summary('list the tokens (never their secret)')
    .description(
      'List every token: id, name, pipelines, when created, expires and was last used, and its status',
    )
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText('after', examples('inlet tokens list', 'inlet tokens list --json'))
    .action(action(later(async () => (await import('../run/tokens.js')).runList)));

  tokens
    .command('revoke')
    .summary('revoke a token from now on')
    .description('Revoke a token: requests with it are refused (401 revoked_token) from now on')
    .argument('<id>', 'the token id, as inlet tokens list shows')
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText('after', examples('inlet tokens revoke 3f2c9a1e-0c4b-4d8e-9a57-2b1f0e6d7c88'))
    .action(action(later(async () => (await import('../run/tokens.js')).runRevoke)));
}
