/**
 * Browsers at the cluster's front: SIP over WebSocket to Kamailio (the repository's dispatcher
 * configuration with its WebSocket module), relayed over UDP to an engine that takes WebRTC
 * offers over UDP (webrtc.transports) from the proxy it trusts; the media goes straight between
 * the browser and the engine. A browser (an @roamhq/wrtc stand-in that speaks SIP as sip.js
 * does) and a phone both call one room through the front: each hears the other; the browser's
 * INFO reaches the engine and the engine's BYE reaches the browser, both through Kamailio. A
 * handshake from another site's page is refused; WSS on Kamailio's TLS listener works the same. Then Debian's Chromium, on a page of a listed
 * origin running sip.js, does the same with its fake microphone and hangs up with its own BYE.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConferenceLifetimeControl,
  ConferencePartyMediaSettings,
  Engine,
  State,
  type UASCallChannel
} from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { Kamailio } from '../support/kamailio-dispatcher.js';
import { hasPeer } from '../support/peers.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { TonePhone } from '../support/tone-phone.js';
import { sleep, waitFor } from '../support/wait.js';
import { WebRtcCaller } from '../support/webrtc-caller.js';
import { WsSipClient } from '../support/ws-sip-client.js';
import { SipJsPage } from '../support/sipjs-page.js';
import { makeTestCertificate } from '../support/tls-certificate.js';
import { launchWithToneMic, pageToneLevels } from '../support/chromium.js';

const KAMAILIO_HOST = '127.0.0.14';
/** The web application whose pages may open a WebSocket at the front. */
const APP_ORIGIN = 'https://app.example.com';
const HEARD_DB = -40;
const ABSENT_DB = -55;
const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

const hasFront = hasPeer('kamailio') && hasPeer('kamailio-websocket');

describe.skipIf(!hasFront)('browsers at the Kamailio front (SIP over WebSocket)', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
    expect(openPeerConnections()).toBe(0);
  });

  /** An engine that puts every answered call in the room its Request-URI names. */
  async function roomEngine(): Promise<{ engine: Engine; channels: Map<string, UASCallChannel> }> {
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: rtpBase, maxPort: rtpBase + 99 },
      webrtc: { iceServers: [], transports: ['ws', 'udp'] },
      access: { trustedProxies: [KAMAILIO_HOST] },
      logLevel: 'silent'
    });
    const channels = new Map<string, UASCallChannel>();
    engine.on('call', async (channel) => {
      try {
        await channel.answer();
      } catch {
        return;
      }
      channels.set(/sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '', channel);
      const room = /sip:([A-Za-z0-9]+)@/.exec(channel.requestUri ?? '')?.[1] ?? 'x';
      await channel.transferToConferenceRoom(engine.createChannel(), room, {
        conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
        conferencePartyMediaSettings: new ConferencePartyMediaSettings({
          beepOnEntry: false,
          exitOnDtmfDigit: '#'
        }),
        secondsTimeout: 30
      });
    });
    await engine.start();
    cleanup.push(() => engine.stop());
    return { engine, channels };
  }

  it('a browser and a phone in one room hear each other; INFO and BYE cross the front both ways', async () => {
    const { engine, channels } = await roomEngine();
    const port = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
    const front = await Kamailio.start(KAMAILIO_HOST, [`127.0.0.1:${port}`], 4, 1, undefined, {
      origins: [APP_ORIGIN]
    });
    cleanup.push(() => front.stop());
    const web = new WebRtcCaller({ toneHz: 440, user: 'webfront', origin: APP_ORIGIN });
    cleanup.push(() => web.close());
    const tel = await TonePhone.create({ toneHz: 980, user: 'telfront' });
    cleanup.push(() => tel.close());

    const room = front.uri('frontroom');
    const ok = await web.call(front.wsUrl, room);
    expect(ok.status).toBe(200);
    expect(ok.bodyText).toContain('a=fingerprint:');
    // Kamailio stays in the browser's dialog: the engine can reach it only through its WebSocket.
    expect(ok.getAll('Record-Route').join(',')).toContain(KAMAILIO_HOST);
    await tel.call(room);
    await waitFor(
      () =>
        channels.get('webfront')?.state === State.TRANSFERRED &&
        channels.get('telfront')?.state === State.TRANSFERRED,
      15_000
    );
    await waitFor(() => web.pc.connectionState === 'connected', 15_000);

    await sleep(500);
    web.clearReceived();
    tel.clearReceived();
    await sleep(1500);
    const w = web.received();
    const t = tel.receivedPcm();
    expect(toneLevelDb(w.pcm, 980, w.rateHz)).toBeGreaterThan(HEARD_DB);
    expect(toneLevelDb(w.pcm, 440, w.rateHz)).toBeLessThan(ABSENT_DB);
    expect(toneLevelDb(t, 440, 8000)).toBeGreaterThan(HEARD_DB);
    expect(toneLevelDb(t, 980, 8000)).toBeLessThan(ABSENT_DB);

    // The browser's keypad (INFO along the route set) takes it out of the room.
    expect(await web.infoDigit('#', room)).toBe(200);
    await waitFor(() => channels.get('webfront')?.state === State.ANSWERED, 10_000);
    // The engine hangs up: its BYE goes to Kamailio, which carries it over the browser's WebSocket.
    const byeSeen = web.sipClient.requestFor(web.id, 'BYE', 10_000);
    await channels.get('webfront')!.hangUp();
    const bye = await byeSeen;
    expect(bye.get('Via')).toContain(KAMAILIO_HOST);
    await waitFor(() => channels.get('webfront')?.state === State.IDLE, 10_000);
    // The phone's call goes on.
    expect(channels.get('telfront')?.state).toBe(State.TRANSFERRED);
  });

  it.skipIf(!hasPeer('kamailio-tls'))(
    "takes a browser over WSS on its TLS listener (certificate verified), and the engine's BYE comes back over it",
    async () => {
      const { engine, channels } = await roomEngine();
      const port = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
      const certificate = makeTestCertificate([], [KAMAILIO_HOST]);
      cleanup.push(async () => certificate.remove());
      const front = await Kamailio.start(KAMAILIO_HOST, [`127.0.0.1:${port}`], 4, 1, certificate, {
        origins: [APP_ORIGIN]
      });
      cleanup.push(() => front.stop());
      const web = new WebRtcCaller({ toneHz: 440, user: 'webtls', origin: APP_ORIGIN, ca: certificate.cert });
      cleanup.push(() => web.close());
      const ok = await web.call(`wss://${front.host}:${front.tlsPort}`, front.uri('tlsroom'));
      expect(ok.status).toBe(200);
      await waitFor(() => channels.get('webtls')?.state === State.TRANSFERRED, 15_000);
      await waitFor(() => web.pc.connectionState === 'connected', 15_000);
      const byeSeen = web.sipClient.requestFor(web.id, 'BYE', 10_000);
      await channels.get('webtls')!.hangUp();
      expect((await byeSeen).get('Via')).toContain(KAMAILIO_HOST);
      await waitFor(() => channels.get('webtls')?.state === State.IDLE, 10_000);
    }
  );

  it("refuses a WebSocket handshake from another site's page (403), before any SIP", async () => {
    const { engine } = await roomEngine();
    const port = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
    const front = await Kamailio.start(KAMAILIO_HOST, [`127.0.0.1:${port}`], 4, 1, undefined, {
      origins: [APP_ORIGIN, 'http://127.0.0.1:8088']
    });
    cleanup.push(() => front.stop());
    for (const origin of [
      'https://evil.example.net',
      'https://app.example.com.evil.net',
      'http://127.0.0.1:8089'
    ])
      await expect(WsSipClient.connect(front.wsUrl, ['sip'], { origin })).rejects.toThrow(
        'handshake refused: 403'
      );
    for (const origin of [APP_ORIGIN, 'http://127.0.0.1:8088']) {
      const client = await WsSipClient.connect(front.wsUrl, ['sip'], { origin });
      await client.close();
    }
    expect(front.log).toContain('origin https://evil.example.net is not in WS_ORIGINS');
  });

  it.skipIf(!hasPeer('chromium'))(
    "Chromium's sip.js, on a web application's page, joins a phone's room through the front and hangs up",
    async () => {
      const { engine, channels } = await roomEngine();
      const port = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
      const page = await SipJsPage.start();
      cleanup.push(() => page.close());
      const front = await Kamailio.start(KAMAILIO_HOST, [`127.0.0.1:${port}`], 4, 1, undefined, {
        origins: [page.origin]
      });
      cleanup.push(() => front.stop());
      const tel = await TonePhone.create({ toneHz: 980, user: 'telchrome' });
      cleanup.push(() => tel.close());
      await tel.call(front.uri('chromeroom'));
      const browser = await launchWithToneMic(440);
      cleanup.push(() => browser.close());
      const tab = await browser.browser.newPage();
      await tab.goto(page.url(front.wsUrl, `${front.host}:${front.port}`, 'chromeroom'));
      await tab.waitForFunction(
        () => (window as unknown as { uasmediaJoin: { state: string } }).uasmediaJoin.state === 'Established',
        undefined,
        { timeout: 30_000 }
      );
      await waitFor(() => channels.get('browser')?.state === State.TRANSFERRED, 15_000);
      await sleep(1000);
      tel.clearReceived();
      const [pageHearsPhone, pageHearsItself] = await pageToneLevels(tab, [980, 440]);
      const phoneHears = tel.receivedPcm();
      expect(pageHearsPhone).toBeGreaterThan(pageHearsItself + 25);
      expect(toneLevelDb(phoneHears, 440, 8000)).toBeGreaterThan(HEARD_DB);
      // sip.js sends its BYE along the route set, through Kamailio.
      await tab.evaluate(() => (window as unknown as { hangUp: () => Promise<void> }).hangUp());
      await waitFor(() => channels.get('browser')?.state === State.IDLE, 10_000);
      expect(channels.get('telchrome')?.state).toBe(State.TRANSFERRED);
    },
    90_000
  );
});
