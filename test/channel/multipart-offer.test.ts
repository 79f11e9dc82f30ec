/**
 * A trunk that speaks SIP-I (RFC 3204) offers its SDP in a multipart/mixed body beside an ISUP
 * part. The engine answers from the SDP part and sends its audio where that part says (RFC 5621);
 * an ISUP part the caller marks as required is refused with 415 and what we accept, and a body
 * that does not parse with 400, before any channel exists.
 */
import { afterEach, expect, it } from 'vitest';
import type { Engine } from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { RawUac } from '../support/raw-uac.js';
import { SIP_I_CONTENT_TYPE, sipIBody } from '../support/sip-i-body.js';
import { countingSocket, sendRtp, type CountingSocket } from '../support/raw-rtp.js';
import { sleep, waitFor } from '../support/wait.js';

/** The engine, sockets and callers a test opened, closed in the order they were opened. */
const closers: Array<() => unknown> = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function sipI(handling: 'optional' | 'required') {
  return (sdp: string) => ({ contentType: SIP_I_CONTENT_TYPE, body: sipIBody(sdp, handling) });
}

async function setUp(): Promise<{
  engine: Engine;
  sipPort: number;
  incoming: unknown[];
  media: CountingSocket;
  uac: RawUac;
}> {
  const started = await startAnsweringEngine({ minPort: 44800, maxPort: 44899 });
  closers.push(() => started.engine.stop());
  const media = await countingSocket('127.0.0.1');
  closers.push(() => media.close());
  const uac = await new RawUac().open();
  closers.push(() => uac.close());
  return { engine: started.engine, sipPort: started.sipPort, incoming: started.incoming, media, uac };
}

it('answers a SIP-I INVITE from its SDP part and exchanges audio where that part says', async () => {
  const { engine, sipPort, media, uac } = await setUp();
  uac.offerBody = sipI('optional');
  const ok = await uac.invite(sipPort, [], media.port);
  expect(ok.status).toBe(200);
  expect(ok.contentType).toBe('application/sdp');
  const enginePort = Number(/^m=audio (\d+) /m.exec(ok.bodyText)![1]);
  const channel = engine.activeChannels()[0];

  await sendRtp(media.socket, enginePort, 25, 1);
  await waitFor(() => media.received() >= 10, 5000);
  expect(channel.rtpStats()!.packetsReceived).toBeGreaterThanOrEqual(20);
  expect((await uac.bye(ok)).status).toBe(200);
});

it('refuses with 415 an ISUP part marked required, and with 400 a multipart that does not parse', async () => {
  const { sipPort, incoming, media, uac } = await setUp();
  uac.offerBody = sipI('required');
  const refused = await uac.invite(sipPort, [], media.port);
  expect(refused.status).toBe(415);
  expect(refused.get('Accept')).toContain('multipart/mixed');
  expect(refused.get('Accept')).toContain('application/sdp');

  const broken = await new RawUac().open();
  closers.push(() => broken.close());
  broken.offerBody = (sdp) => ({ contentType: 'multipart/mixed;boundary=b', body: `--b\r\n\r\n${sdp}` });
  const bad = await broken.invite(sipPort, [], media.port);
  expect(bad.status).toBe(400);
  expect(bad.reason).toMatch(/no multipart close delimiter/);

  await sleep(200);
  expect(incoming).toHaveLength(0);
  expect(media.received()).toBe(0);
});
