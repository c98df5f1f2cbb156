import type { Command } from 'commander';
import { InletError, UsageError } from '../../errors.js';
import { isUndefinedTable } from '../../ledger/read.js';
import { createToken, isTokenId, listTokens, revokeToken, type TokenInfo } from '../../server/tokens.js';
import { withDatabase } from '../database.js';
import { databaseUrlOf } from '../options.js';
import { cliLogger, colourEnabled, type Paint, paint, print } from '../output.js';

interface CreateOptions {
  name: string;
  pipeline?: string[];
  expiresIn?: number;
  databaseUrl?: string;
  json?: boolean;
}

interface ListOptions {
  databaseUrl?: string;
  json?: boolean;
}

interface RevokeOptions {
  databaseUrl?: string;
  json?: boolean;
}

const DAY_MS = 86_400_000;

export async function runCreate(options: CreateOptions, command: Command): Promise<number> {
  const expiresAt =
    options.expiresIn === undefined ? null : new Date(Date.now() + options.expiresIn * DAY_MS);
  const created = await withDatabase(
    { databaseUrl: databaseUrlOf(options, command), logger: cliLogger(), migrate: true },
    (db) =>
      createToken(db.pool, {
        name: options.name,
        pipelines: options.pipeline ?? null,
        expiresAt,
      }),
  );
  if (options.json) {
    await print(JSON.stringify({ ...toJson(created), token: created.token }));
    return 0;
  }
  await print(`created token "${created.name}" (id ${created.id})`);
  await print(`  pipelines: ${describePipelines(created.pipelines)}`);
  await print(`  expires:   ${created.expiresAt === null ? 'never' : formatWhen(created.expiresAt)}`);
  await print('');
  await print('Store this token now; it is not kept and cannot be shown again:');
  await print('');
  await print(`  ${created.token}`);
  await print('');
  await print('Send it as the header: Authorization: Bearer <token>');
  return 0;
}

export async function runList(options: ListOptions, command: Command): Promise<number> {
  const tokens = await withDatabase(
    { databaseUrl: databaseUrlOf(options, command), logger: cliLogger() },
    async (db) => {
      try {
        return await listTokens(db.pool);
      } catch (error) {
        // A database not yet migrated this far has no tokens: an empty list, not an error.
        if (isUndefinedTable(error)) return [];
        throw error;
      }
    },
  );
  if (options.json) {
    for (const token of tokens) await print(JSON.stringify(toJson(token)));
  } else if (tokens.length === 0) {
    await print('no tokens yet; create one with: inlet tokens create --name NAME');
  } else {
    for (const line of table(tokens, paint(colourEnabled(process.stdout)))) await print(line);
  }
  return 0;
}

export async function runRevoke(id: string, options: RevokeOptions, command: Command): Promise<number> {
  if (!isTokenId(id)) {
    throw new UsageError(
      'invalid_argument',
      `"${id}" is not a token id: expected a UUID, as inlet tokens list shows`,
    );
  }
  const revoked = await withDatabase(
    { databaseUrl: databaseUrlOf(options, command), logger: cliLogger() },
    async (db) => {
      try {
        return await revokeToken(db.pool, id.toLowerCase());
      } catch (error) {
        if (isUndefinedTable(error)) {
          throw new InletError('not_found', `no token ${id}; list them with: inlet tokens list`);
        }
        throw error;
      }
    },
  );
  if (options.json) {
    await print(JSON.stringify(toJson(revoked)));
  } else {
    await print(`revoked token "${revoked.name}" (id ${revoked.id}) at ${formatWhen(revoked.revokedAt)}`);
  }
  return 0;
}

function toJson(token: TokenInfo): Record<string, unknown> {
  return {
    id: token.id,
    name: token.name,
    pipelines: token.pipelines,
    status: token.status,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
  };
}

function describePipelines(pipelines: readonly string[] | null): string {
  return pipelines === null ? 'all' : pipelines.join(', ');
}

function table(tokens: readonly TokenInfo[], colours: Paint): string[] {
  const header = ['ID', 'NAME', 'PIPELINES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS'];
  const cells = tokens.map((token) => [
    token.id,
    token.name,
    describePipelines(token.pipelines),
    formatWhen(token.createdAt),
    token.expiresAt === null ? 'never' : formatWhen(token.expiresAt),
    formatWhen(token.lastUsedAt),
    token.status,
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((row) => [...(row[i] ?? '')].length)),
  );
  const status = header.length - 1;
  // Colour after padding so escape codes do not upset the alignment.
  const render = (row: string[], colour: (i: number, text: string) => string) =>
    row
      .map((cell, i) => colour(i, cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [
    render(header, (_, text) => colours.bold(text)),
    ...cells.map((row) =>
      render(row, (i, text) =>
        i !== status ? text : row[status] === 'active' ? colours.green(text) : colours.red(text),
      ),
    ),
  ];
}

function formatWhen(date: Date | null): string {
  if (date === null) return '-';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
