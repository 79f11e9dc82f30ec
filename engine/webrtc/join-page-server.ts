/**
 * The HTTP side of the engine's WebSocket port: the join page (built by `npm run build:page`
 * into build/join-page/, found from this file in source or in dist/), and the participant
 * list the page polls (`GET /api/rooms/<name>`, with its call's token: roster-token.ts).
 * Everything else is 404; only GET and HEAD.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors.js';
import type { RoomRoster } from './room-roster.js';
import { unmappedAddress } from '../../sip/index.js';
import { bearerToken } from './roster-token.js';

const ROOM_NAME = /^[A-Za-z0-9]{1,64}$/;
/** The page's own tag naming the SIP WebSocket's path, which the server fills in. */
const SIP_PATH_META = '<meta name="uasmedia-sip-path" content="/sip" />';

/** Where the built page is; throws with the command to run when it is missing. */
export function joinPageDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'join-page');
    if (existsSync(join(candidate, 'join-page.js'))) return candidate;
    dir = dirname(dir);
  }
  throw new EngineError('ERR_JOIN_PAGE_UNAVAILABLE', "build/join-page/ not found: run 'npm run build:page'");
}

interface Asset {
  body: Buffer;
  type: string;
}

export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** What the page server asks the engine. */
export interface JoinPageAccess {
  /** Whether a request from `address` may be answered at all (the SIP source lists). */
  allows(address: string): boolean;
  /** Whether the call that was given `rosterToken` is in room `name`: only a member sees who else is. */
  inRoom(name: string, rosterToken: string): boolean;
}

export function createJoinPageHandler(
  roster: RoomRoster,
  access: JoinPageAccess,
  sipPath: string
): HttpHandler {
  const dir = joinPageDirectory();
  const built = readFileSync(join(dir, 'index.html'), 'utf8');
  if (!built.includes(SIP_PATH_META))
    throw new EngineError('ERR_JOIN_PAGE_UNAVAILABLE', "build/join-page/ is stale: run 'npm run build:page'");
  const page = built.replace(
    SIP_PATH_META,
    `<meta name="uasmedia-sip-path" content="${escapeAttribute(sipPath)}" />`
  );
  const assets = new Map<string, Asset>([
    ['/', { body: Buffer.from(page, 'utf8'), type: 'text/html; charset=utf-8' }],
    [
      '/join-page.js',
      { body: readFileSync(join(dir, 'join-page.js')), type: 'text/javascript; charset=utf-8' }
    ]
  ]);
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const headers = {
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      // Its own script and styles only, and never inside another site's frame (a page that
      // frames it could trick a user into granting the microphone).
      'Content-Security-Policy':
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      'X-Frame-Options': 'DENY'
    };
    const from = unmappedAddress(request.socket.remoteAddress ?? '');
    if (!access.allows(from)) {
      response.writeHead(403, headers).end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const asset = assets.get(path);
    if (asset) {
      response.writeHead(200, {
        ...headers,
        'Content-Type': asset.type,
        'Content-Length': asset.body.length
      });
      response.end(request.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (path.startsWith('/api/rooms/')) {
      const name = path.slice('/api/rooms/'.length);
      if (!ROOM_NAME.test(name)) {
        response
          .writeHead(400, { ...headers, 'Content-Type': 'application/json' })
          .end(JSON.stringify({ error: `room name '${name}' must be alphanumeric` }));
        return;
      }
      // Not a member: the same answer as an empty room, so names, PIN rooms included, and
      // whether a room exists are not for a stranger to learn.
      const token = bearerToken(request.headers.authorization);
      const member = token !== undefined && access.inRoom(name, token);
      const participants = member ? (roster.entries(name) ?? []) : [];
      response
        .writeHead(200, { ...headers, 'Content-Type': 'application/json' })
        .end(JSON.stringify({ room: name, participants }));
      return;
    }
    response.writeHead(404, headers).end();
  };
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
