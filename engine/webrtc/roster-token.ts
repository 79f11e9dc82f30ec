/**
 * The join page's pass to its room's participant list. A call that came in over the WebSocket
 * (a browser) gets a random token in its 200 OK; the page sends it back as `Authorization:
 * Bearer <token>` when it asks who is in the room, and is answered only while that call is in
 * the room. No address decides it: a browser's address is its NAT's, shared with strangers.
 * No Node imports: the page's bundle takes the header name from here.
 */
export const ROSTER_TOKEN_HEADER = 'X-Roster-Token';

/** The token of an `Authorization: Bearer` header, if it has one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9_-]{1,64})$/.exec(authorization ?? '');
  return match?.[1];
}
