/**
 * A call the peer ends keeps its final RTP statistics: `rtpStats()` on the IDLE channel (in its
 * 'stateChange' listener, say) gives them. It gave undefined, so an application could never
 * record what a call a caller hung up had received or lost.
 */
import { afterEach, expect, it } from 'vitest';
import { State } from '../../engine/index.js';
import type { RtpSessionStats } from '../../engine/rtp/rtp-session.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { countingSocket, sendRtp } from '../support/raw-rtp.js';
import { RawUac } from '../support/raw-uac.js';
import { waitFor } from '../support/wait.js';

const ENGINE_HOST = '127.0.25.1';
const CALLER_HOST = '127.0.25.4';
const SENT = 40;

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

it("gives a call's final RTP statistics once the peer has hung up", async () => {
  const { engine, sipPort, incoming } = await startAnsweringEngine(
    { minPort: 55300, maxPort: 55399 },
    { sip: { host: ENGINE_HOST, port: 0, transports: ['udp'] } }
  );
  closers.push(() => engine.stop());
  const media = await countingSocket(CALLER_HOST);
  closers.push(() => media.close());
  const uac = await new RawUac().open(CALLER_HOST);
  closers.push(() => uac.close());
  uac.engineHost = ENGINE_HOST;
  uac.offerBody = (sdp) => ({
    contentType: 'application/sdp',
    body: sdp.replaceAll('127.0.0.1', CALLER_HOST)
  });

  const ok = await uac.invite(sipPort, [], media.port);
  expect(ok.status).toBe(200);
  const enginePort = Number(/^m=audio (\d+) /m.exec(ok.bodyText)![1]);
  await sendRtp(media.socket, enginePort, SENT, 1, ENGINE_HOST);
  const channel = incoming[0];
  await waitFor(() => channel.rtpStats()!.packetsReceived === SENT);

  let atEnd: RtpSessionStats | undefined;
  channel.on('stateChange', ({ state }) => {
    if (state === State.IDLE) atEnd = channel.rtpStats();
  });
  expect((await uac.bye(ok)).status).toBe(200);
  await waitFor(() => channel.state === State.IDLE);
  expect(atEnd?.packetsReceived).toBe(SENT);
  expect(atEnd?.packetsSent).toBeGreaterThan(0);
  expect(channel.rtpStats()).toEqual(atEnd);
});
