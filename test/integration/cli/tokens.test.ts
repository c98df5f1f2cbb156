/**
 * `inlet tokens create | list | revoke` through the real `inlet` process.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyToken } from '../../../src/server/tokens.js';
import { jsonLines } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

// Without DATABASE_URL: every command must honour --database-url.
const cli = cliWorkspace('inlet-cli-tokens-', { databaseUrl: false });
const { inlet } = cli;

describe.concurrent('inlet tokens --help', () => {
  it.each([[['tokens']], [['tokens', 'create']], [['tokens', 'list']], [['tokens', 'revoke']]])(
    '%j --help exits 0 with an example',
    async (command) => {
      const run = await inlet(...command, '--help');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: inlet ${command.join(' ')}`);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toContain('$ inlet tokens');
      expect(run.stdout).toContain('--database-url <url>');
    },
  );
});

describe.concurrent('usage errors exit 2', () => {
  it('create without --name', async () => {
    const run = await inlet('tokens', 'create', '--database-url', cli.db.url);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("required option '--name <name>'");
  });

  it('a bad --expires-in', async () => {
    const run = await inlet(
      'tokens',
      'create',
      '--name',
      'x',
      '--expires-in',
      '0',
      '--database-url',
      cli.db.url,
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });

  it('revoke of something that is not an id', async () => {
    const run = await inlet('tokens', 'revoke', 'nope', '--database-url', cli.db.url);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not a token id');
  });

  it('tokens without a subcommand', async () => {
    expect((await inlet('tokens')).code).toBe(2);
  });
});

describe('create, list, revoke', () => {
  it('creates a token once, lists it, revokes it', async () => {
    const created = await inlet(
      'tokens',
      'create',
      '--name',
      'acme',
      '--pipeline',
      'orders',
      '--pipeline',
      'refunds',
      '--expires-in',
      '30',
      '--json',
      '--database-url',
      cli.db.url,
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const [token, ...more] = jsonLines(created.stdout);
    expect(more).toEqual([]);
    expect(token).toMatchObject({
      id: expect.any(String),
      name: 'acme',
      pipelines: ['orders', 'refunds'],
      status: 'active',
      token: expect.stringMatching(/^inlet_[A-Za-z0-9_-]{43}$/),
      revokedAt: null,
      lastUsedAt: null,
    });
    const expiresIn = Date.parse(String(token?.expiresAt)) - Date.now();
    expect(expiresIn).toBeGreaterThan(29 * 86_400_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 86_400_000);
    expect((await verifyToken(cli.db.pool, String(token?.token))).ok).toBe(true);

    const listed = await inlet('tokens', 'list', '--json', '--database-url', cli.db.url);
    expect(listed.code).toBe(0);
    const rows = jsonLines(listed.stdout);
    const { token: _secret, ...withoutSecret } = token ?? {};
    expect(rows).toContainEqual({ ...withoutSecret, lastUsedAt: expect.any(String) });
    expect(listed.stdout).not.toContain(String(token?.token));

    const revoked = await inlet('tokens', 'revoke', String(token?.id), '--database-url', cli.db.url);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked token "acme" (id ${token?.id})`);
    const check = await verifyToken(cli.db.pool, String(token?.token));
    expect(check).toMatchObject({ ok: false, code: 'revoked_token' });

    const after = jsonLines((await inlet('tokens', 'list', '--json', '--database-url', cli.db.url)).stdout);
    expect(after.find((row) => row.id === token?.id)).toMatchObject({ status: 'revoked' });
  });

  it('prints the token for people with a warning to store it, and an aligned table', async () => {
    const created = await inlet('tokens', 'create', '--name', 'people', '--database-url', cli.db.url);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Store this token now');
    expect(created.stdout).toMatch(/^ {2}inlet_[A-Za-z0-9_-]{43}$/m);
    expect(created.stdout).toContain('pipelines: all');

    // --database-url before the subcommand works as well.
    const listed = await inlet('tokens', '--database-url', cli.db.url, 'list');
    expect(listed.code).toBe(0);
    const [header, ...lines] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID +NAME +PIPELINES +CREATED +EXPIRES +LAST USED +STATUS$/);
    const line = lines.find((l) => l.includes(' people '));
    expect(line).toBeDefined();
    // Aligned: every column starts where its header does.
    for (const title of ['NAME', 'PIPELINES', 'CREATED', 'STATUS']) {
      const at = header?.indexOf(title) ?? -1;
      expect(line?.[at - 1]).toBe(' ');
      expect(line?.[at]).not.toBe(' ');
    }
  });

  it('revoke of an unknown id exits 1', async () => {
    const id = randomUUID();
    const run = await inlet('tokens', 'revoke', id, '--database-url', cli.db.url);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`no token ${id}`);
  });
});
