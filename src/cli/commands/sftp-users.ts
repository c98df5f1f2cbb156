import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples, jsonOption, repeatable } from '../options.js';

export function registerSftpUsers(program: Command, action: Action): void {
  const users = program
    .command('sftp-users')
    .summary('add, list and remove the partners of the SFTP door')
    .description(
      'Manage who may sign in to the SFTP door of inlet serve / inlet dev (INLET_SFTP_PORT, default 2222). ' +
        'A user signs in with one of its SSH public keys (or a password, only if one was set), writes files ' +
        "into /inbound/<pipeline>/ for each pipeline it is allowed, and reads each file's result from " +
        '/outbound/<pipeline>/<name>.result.json (and <name>.rejects.csv when rows were rejected).',
    )
    .addOption(databaseUrlOption())
    .addHelpText(
      'after',
      examples(
        'inlet sftp-users add acme --ssh-key acme_ed25519.pub --pipeline orders',
        'inlet sftp-users add-key acme --ssh-key acme_laptop.pub',
        'inlet sftp-users list',
        'inlet sftp-users remove acme',
      ) +
        '\nThen the partner:\n' +
        '  $ sftp -P 2222 -i acme_ed25519 acme@inlet.example.com\n' +
        '  sftp> put 2026-12-01.csv /inbound/orders/\n' +
        '  sftp> get /outbound/orders/2026-12-01.csv.result.json\n',
    );

  users
    .command('add')
    .summary('add a user with its public keys and pipelines')
    .description(
      'Add an SFTP user: its public keys (each --ssh-key file holds one or more OpenSSH public keys, as a ' +
        '.pub or authorized_keys file does) and the pipelines it may write (each must be in the config). ' +
        'Public-key sign-in only, unless --password-stdin sets a password (stored as an scrypt hash).',
    )
    .argument('<name>', 'the login name: letters, digits, ".", "_" or "-" (e.g. acme)')
    .option('--ssh-key <file>', 'a public key file; repeat for several', repeatable)
    .option('--pipeline <name>', 'a pipeline the user may write; repeat for several', repeatable)
    .option('--password-stdin', 'also allow a password, read from the first line of standard input')
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      examples(
        'inlet sftp-users add acme --ssh-key acme.pub --pipeline orders --pipeline refunds',
        'printf \'%s\\n\' "$PASSWORD" | inlet sftp-users add legacy --pipeline orders --password-stdin',
      ),
    )
    .action(action(later(async () => (await import('../run/sftp-users.js')).runAdd)));

  users
    .command('add-key')
    .summary('add public keys to a user')
    .description(
      'Add the public keys of each --ssh-key file to an existing SFTP user (a key it has is kept once)',
    )
    .argument('<name>', 'the user, as inlet sftp-users list shows')
    .option('--ssh-key <file>', 'a public key file; repeat for several', repeatable)
    .addOption(databaseUrlOption())
    .addHelpText('after', examples('inlet sftp-users add-key acme --ssh-key acme_laptop.pub'))
    .action(action(later(async () => (await import('../run/sftp-users.js')).runAddKey)));

  users
    .command('list')
    .summary('list the users, their pipelines and key fingerprints')
    .description(
      'List every SFTP user: name, pipelines, key fingerprints (SHA256:…), whether a password is set',
    )
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText('after', examples('inlet sftp-users list', 'inlet sftp-users list --json'))
    .action(action(later(async () => (await import('../run/sftp-users.js')).runList)));

  users
    .command('remove')
    .summary('remove a user and its keys')
    .description(
      'Remove an SFTP user and its keys: it cannot sign in from now on (a session open now runs until it ' +
        'ends). What it sent stays in the ledger.',
    )
    .argument('<name>', 'the user, as inlet sftp-users list shows')
    .addOption(databaseUrlOption())
    .addHelpText('after', examples('inlet sftp-users remove acme'))
    .action(action(later(async () => (await import('../run/sftp-users.js')).runRemove)));
}
