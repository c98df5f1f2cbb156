/**
 * Reads inlet.config.yaml (JSON is valid YAML) into a validated InletConfig.
 * Every problem becomes one ConfigError listing all issues, so a user fixes the file in one pass.
 */
import { access, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Document, parseDocument, type YAMLError } from 'yaml';
import { ConfigError } from '../errors.js';
import type { InletConfig } from '../model/contract.js';
import { DEFAULT_CONFIG_PATH } from './default-path.js';
import { formatIssues } from './issues.js';
import { configSchema } from './schema.js';

/** The file `path` names (`--config`, else INLET_CONFIG, as the door read them), else `inlet.config.yaml`. */
export async function loadConfig(file: string = DEFAULT_CONFIG_PATH): Promise<InletConfig> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file) && !file.startsWith('file://')) {
    throw new ConfigError(
      'invalid_config',
      `${file}: the command line reads the config from a local file; download it first or pass --config FILE`,
    );
  }
  const local = file.startsWith('file://') ? new URL(file) : file;
  let text: string;
  try {
    text = await readFile(local, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  return parseConfig(text, file);
}

/**
 * For commands that can work without pipelines: the named config, else `inlet.config.yaml` when it is
 * there, else none.
 */
export async function loadOptionalConfig(named: string | undefined): Promise<InletConfig | undefined> {
  if (named !== undefined) return loadConfig(named);
  const present = await access(DEFAULT_CONFIG_PATH).then(
    () => true,
    () => false,
  );
  return present ? loadConfig(DEFAULT_CONFIG_PATH) : undefined;
}

function unreadable(file: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new ConfigError(
      'config_not_found',
      `config file not found: ${resolve(file)}. Create one from the example ` +
        `(cp examples/inlet.config.yaml ${DEFAULT_CONFIG_PATH}), or name another with --config FILE or INLET_CONFIG.`,
      { cause: error },
    );
  }
  const reason = code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
  return new ConfigError('invalid_config', `cannot read config file ${resolve(file)}: ${reason}`, {
    cause: error,
  });
}

/** `origin` names the file in messages (a path, or `INLET_CONFIG` when the text came from elsewhere). */
export function parseConfig(text: string, origin: string): InletConfig {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      'invalid_config',
      document.errors.map((error) => syntaxLine(error, origin)).join('\n'),
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Alias bombs ("billion laughs") and similar end here rather than exhausting memory.
    throw new ConfigError('invalid_config', `${origin}: ${(error as Error).message}`, { cause: error });
  }
  if (data === null || data === undefined) {
    throw new ConfigError('invalid_config', `${origin}: the file is empty; it needs a "pipelines:" list`);
  }
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError('invalid_config', formatIssues(parsed.error.issues, origin, positionIn(document)), {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function syntaxLine(error: YAMLError, origin: string): string {
  const [start] = error.linePos ?? [];
  // The yaml package appends " at line L, column C:" and a source excerpt; we place the location first.
  const [summary = error.message, ...excerpt] = error.message.split('\n');
  const reason = summary.replace(/ at line \d+, column \d+:?$/, '');
  const where = start === undefined ? '' : ` line ${start.line}, column ${start.col}:`;
  const snippet = excerpt.filter((line) => line.trim() !== '').map((line) => `  ${line}`);
  return [`${origin}:${where} YAML syntax error: ${reason}`, ...snippet].join('\n');
}

/** The source offset of the deepest node on `path` that exists, to list issues in file order. */
function positionIn(document: Document): (path: readonly PropertyKey[]) => number {
  return (path) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = document.getIn(path.slice(0, depth) as unknown[], true) as {
        range?: [number, number, number];
      };
      if (node?.range) return node.range[0];
    }
    return 0;
  };
}
