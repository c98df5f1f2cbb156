/**
 * The dashboard: a static page and its files from src/dashboard (copied to dist/dashboard by the
 * build), served without a token: the page holds no data, it asks for a token and reads the API with it.
 * Everything comes from this origin, and the Content-Security-Policy says so: no CDN, no inline script
 * or style, no framing.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../observability/logger.js';

export interface DashboardRoutesDeps {
  logger: Logger;
  /** Where the files are; default the `dashboard` directory beside the server's own (src/ or dist/). */
  dir?: URL;
}

export const DASHBOARD_DIR = new URL('../../dashboard/', import.meta.url);

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$/;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export async function dashboardRoutes(app: FastifyInstance, deps: DashboardRoutesDeps): Promise<void> {
  const dir = deps.dir ?? DASHBOARD_DIR;
  const assets = await loadAssets(dir, deps.logger);

  const serve = (name: string, request: FastifyRequest, reply: FastifyReply) => {
    const asset = assets.get(name);
    if (asset === undefined) {
      return reply.code(404).send({
        error: {
          code: 'not_found',
          message:
            name === 'index.html'
              ? 'The dashboard files are missing from this build (npm run build copies src/dashboard to dist/dashboard).'
              : `No dashboard file ${name}.`,
        },
      });
    }
    reply.headers({
      'content-type': asset.type,
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      // Revalidate every time (a cheap 304): the page and its modules then always change together.
      'cache-control': 'no-cache',
      etag: asset.etag,
    });
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.send(asset.body);
  };

  const hidden = { schema: { hide: true } };
  app.get('/', hidden, (request, reply) => serve('index.html', request, reply));
  app.get<{ Params: { file: string } }>('/dashboard/:file', hidden, (request, reply) =>
    serve(request.params.file === 'index.html' ? '' : request.params.file, request, reply),
  );
}

/** Read once at start: a handful of small files, and no path from a request ever reaches the disk. */
async function loadAssets(dir: URL, logger: Logger): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    logger.warn('the dashboard files are missing; GET / will answer 404', { dir: dir.pathname, error });
    return assets;
  }
  for (const name of names) {
    const match = ASSET_NAME.exec(name);
    const type = match?.[1] === undefined ? undefined : TYPES[match[1]];
    if (type === undefined) continue;
    const body = await readFile(new URL(name, dir));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, type, etag });
  }
  return assets;
}
