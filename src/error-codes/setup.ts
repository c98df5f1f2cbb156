import { type ErrorCodeInfo, type ErrorCodeSection, INGESTING_DOORS } from './entry.js';

/** The config file, the environment and the command line: wrong before any file is read. */
export const setupCodes = {
  title: 'Configuration and the command line',
  intro:
    'The config file, an environment variable or the command line is wrong. The command prints ' +
    '`error: <message>` and exits 2 (a config or usage problem) or 1; a server or function does not start. ' +
    'The message names the file and key, or the variable, and what it accepts.',
  codes: {
    config_not_found: {
      meaning: 'The config file does not exist.',
      action:
        'Create one from examples/inlet.config.yaml, or name another with `--config FILE` or INLET_CONFIG.',
      doors: INGESTING_DOORS,
    },
    invalid_config: {
      meaning:
        'The config file cannot be read or is not valid: YAML syntax, an unknown or misspelt key, a wrong value (the message gives the line and the key path).',
      action: 'Fix the file where the message says; `inlet validate` checks it.',
      doors: INGESTING_DOORS,
    },
    invalid_setting: {
      meaning: 'An environment variable has a value Inlet cannot use.',
      action: 'Set it as the message says; docs/environment.md lists every variable and what it accepts.',
      doors: INGESTING_DOORS,
      formerly: ['invalid_environment', 'invalid_port'],
    },
    invalid_context: {
      meaning:
        'A CDK context value of the AWS deployment (`cdk deploy -c key=value`, cdk.json) is not valid.',
      action: 'Fix the value as the message says; deploy-aws.md lists the context keys.',
      doors: ['lambda'],
    },
    port_in_use: {
      meaning: '`inlet dev`: a port it needs is taken.',
      action: 'Free it, or set the variable the message names to another port.',
      doors: ['cli'],
    },
    invalid_argument: {
      meaning: 'A command-line argument or option is not valid.',
      action: 'Fix it as the message says; `inlet help <command>` shows the usage.',
      doors: ['cli'],
    },
    invalid_ssh_key: {
      meaning:
        '`inlet sftp-users add` or `add-key`: the key file is not an OpenSSH public key (a private key, a truncated line, an unknown key type).',
      action: 'Give the `.pub` file `ssh-keygen -t ed25519` wrote (one key a line, as in `authorized_keys`).',
      doors: ['cli'],
    },
    ambiguous_id: {
      meaning: 'A short ingestion id matches several ingestions.',
      action: 'Give the full id.',
      doors: ['cli'],
    },
    no_files: {
      meaning: '`inlet ingest` found no files in the paths it was given.',
      action: 'Check the paths (folders are read recursively).',
      doors: ['cli'],
    },
    not_supported: {
      meaning: 'The command cannot do this here (an EBS snapshot cannot be restored into a folder).',
      action: 'Do it the way the message says.',
      doors: ['cli'],
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
