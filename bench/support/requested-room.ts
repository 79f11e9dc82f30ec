/** The room a benchmark caller asks for: the user part of its Request-URI (`sip:room7@host`), else `fallback`. */
export function requestedRoom(requestUri: string | undefined, fallback: string): string {
  return /^sips?:([A-Za-z0-9]+)@/.exec(requestUri ?? '')?.[1] ?? fallback;
}
