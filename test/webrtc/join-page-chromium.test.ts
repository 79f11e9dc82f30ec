/**
 * The join page in a real Chromium (Debian's, driven by playwright-core) against the engine
 * running the meet-me example, as `npm start` does: the page's sip.js calls the room over the
 * engine's WebSocket, Chromium's fake microphone sends 440 Hz, a SIP phone sends 980 Hz.
 * Each hears the other (the page through its WebAudio AnalyserNode, the phone by Goertzel)
 * and not itself; the phone hears the browser's entry announcement; '#' on the page's keypad
 * retrieves the browser, which hears "goodbye" and gets BYE over its WebSocket, and answers it; closing the
 * tab mid-conference leaves nothing behind; and `npm start` exits 0 after a browser call.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, WebSocketRoute } from 'playwright-core';
import { Engine, openPeerConnections } from '../../engine/index.js';
import { meetMeInviteFilter, serveMeetMe } from '../../engine/app/meet-me.js';
import { hasPeer } from '../support/peers.js';
import { launchWithToneMic, pageToneLevels, type FakeMicBrowser } from '../support/chromium.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb, rmsDbfs } from '../support/tone-analysis.js';
import { sleep, waitFor } from '../support/wait.js';

const haveChromium = hasPeer('chromium');
const BROWSER_HZ = 440;
const PHONE_HZ = 980;

let engine: Engine;
let sipPort: number;
let pageUrl: string;
let chromium: FakeMicBrowser;
const phones: TonePhone[] = [];

/** Power left in `pcm` once the tone at `toneHz` is taken out, in dBFS: what else was heard. */
function residualDbfs(pcm: Int16Array, toneHz: number): number {
  const total = 10 ** (rmsDbfs(pcm) / 10);
  const amplitude = 10 ** (toneLevelDb(pcm, toneHz, 8000) / 20);
  return 10 * Math.log10(Math.max(total - (amplitude * amplitude) / 2, 1e-12));
}

/** Joins `room` from a new page; `sent` and `received` collect the SIP messages the page sends and gets. */
async function joinFromPage(
  room: string,
  name: string,
  sent: string[] = [],
  received: string[] = []
): Promise<Page> {
  const page = await chromium.browser.newPage();
  page.on('websocket', (socket) => {
    socket.on('framesent', (frame) => sent.push(String(frame.payload)));
    socket.on('framereceived', (frame) => received.push(String(frame.payload)));
  });
  await page.goto(`${pageUrl}?room=${room}&name=${name}`);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.waitForFunction(
    () => (window as unknown as { uasmediaJoin: { state: string } }).uasmediaJoin.state === 'Established',
    undefined,
    { timeout: 30_000 }
  );
  return page;
}

async function phoneIn(room: string, user: string): Promise<TonePhone> {
  const phone = await TonePhone.create({ toneHz: PHONE_HZ, user });
  phones.push(phone);
  await phone.call(`sip:${room}@127.0.0.1:${sipPort}`);
  return phone;
}

const partiesIn = (room: string): number => engine.rooms.get(room)?.parties.length ?? 0;

describe.skipIf(!haveChromium)('the join page in Chromium', () => {
  beforeAll(async () => {
    engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      // Not the default '/sip': the page must connect where the engine listens.
      webSocket: { port: 0, joinPage: true, path: '/phone' },
      rtp: { minPort: 35000, maxPort: 35999 },
      inviteFilter: meetMeInviteFilter
    });
    serveMeetMe(engine);
    await engine.start();
    sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
    pageUrl = `http://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/`;
    chromium = await launchWithToneMic(BROWSER_HZ);
  });

  afterAll(async () => {
    await chromium?.close();
    await Promise.all(phones.map((p) => p.close()));
    await engine?.stop();
    expect(openPeerConnections()).toBe(0);
  });

  it(
    'browser and phone hear each other and not themselves; the phone hears the entry announcement; mute works; # retrieves the browser, which hears goodbye and gets BYE',
    { timeout: 120_000 },
    async () => {
      const phone = await phoneIn('webroom', 'tel');
      await waitFor(() => partiesIn('webroom') === 1, 20_000);
      await sleep(4000); // the phone's own entry announcement is over
      const phoneChannels = engine.activeChannels().length; // its call and its leg into the room
      phone.clearReceived();
      const sent: string[] = [];
      const page = await joinFromPage('webroom', 'Webby', sent);
      await page.evaluate(() => {
        const w = window as unknown as {
          seenTalking: string[];
          uasmediaJoin: { participants: Array<{ name: string; talking: boolean }> };
        };
        w.seenTalking = [];
        setInterval(() => {
          for (const p of w.uasmediaJoin.participants) if (p.talking) w.seenTalking.push(p.name);
        }, 100);
      });
      await waitFor(() => partiesIn('webroom') === 2, 20_000);
      // The talker detector takes a steady tone into its noise floor within seconds (a fan or a
      // hum is not talk), so the phone has stopped "talking" by now: it pauses and starts again
      // while the page watches the list.
      phone.toneHz = null;
      await sleep(1000);
      phone.toneHz = PHONE_HZ;
      // The room announces "Webby has joined": speech at the phone beside the browser's tone.
      await sleep(3000);
      const announced = residualDbfs(phone.receivedPcm(), BROWSER_HZ);
      await sleep(2000);
      phone.clearReceived();
      const [pageHearsPhone, pageHearsItself] = await pageToneLevels(page, [PHONE_HZ, BROWSER_HZ]);
      const phonePcm = phone.receivedPcm();
      const phoneHearsBrowser = toneLevelDb(phonePcm, BROWSER_HZ, 8000);
      const phoneHearsItself = toneLevelDb(phonePcm, PHONE_HZ, 8000);
      console.log(
        `announcement at the phone ${announced.toFixed(1)} dBFS; page hears ${PHONE_HZ} Hz ${pageHearsPhone.toFixed(1)} dB, ${BROWSER_HZ} Hz ${pageHearsItself.toFixed(1)} dB; phone hears ${BROWSER_HZ} Hz ${phoneHearsBrowser.toFixed(1)} dB, ${PHONE_HZ} Hz ${phoneHearsItself.toFixed(1)} dB`
      );
      expect(announced).toBeGreaterThan(-45);
      expect(pageHearsPhone).toBeGreaterThan(pageHearsItself + 25);
      expect(phoneHearsBrowser).toBeGreaterThan(-40);
      expect(phoneHearsItself).toBeLessThan(-55);
      const participants = await page.evaluate(() =>
        (
          window as unknown as { uasmediaJoin: { participants: Array<{ name: string }> } }
        ).uasmediaJoin.participants.map((p) => p.name)
      );
      expect(participants.sort()).toEqual(['Webby', 'tel']);
      // The list marked the phone talking (the room's talker events). The browser's own tone goes
      // through Chrome's noise suppression first, which fades a steady tone: not asserted here
      // (test/webrtc/webrtc-conference.test.ts shows a WebRTC party's talking events).
      const seenTalking = await page.evaluate(
        () => (window as unknown as { seenTalking: string[] }).seenTalking
      );
      expect(seenTalking).toContain('tel');

      // The page's mute button silences its microphone track; unmute brings the tone back.
      await page.getByRole('button', { name: 'Mute' }).click();
      await sleep(1000);
      phone.clearReceived();
      await sleep(1500);
      const whileMuted = toneLevelDb(phone.receivedPcm(), BROWSER_HZ, 8000);
      await page.getByRole('button', { name: 'Unmute' }).click();
      await sleep(1000);
      phone.clearReceived();
      await sleep(1500);
      const unmuted = toneLevelDb(phone.receivedPcm(), BROWSER_HZ, 8000);
      console.log(
        `phone hears ${BROWSER_HZ} Hz at ${whileMuted.toFixed(1)} dB while the page is muted, ${unmuted.toFixed(1)} dB after unmute`
      );
      expect(whileMuted).toBeLessThan(-55);
      expect(unmuted).toBeGreaterThan(-40);

      // '#' from the keypad (SIP INFO): retrieved, it hears "goodbye" (speech: energy across the
      // band, where the phone's tone had none), then BYE over its WebSocket.
      const SPEECH_BANDS = [600, 1500, 2000];
      const bandDb = async (frames: number): Promise<number> =>
        Math.max(...(await pageToneLevels(page, SPEECH_BANDS, frames)));
      const beforeExit = await bandDb(5);
      await page.getByRole('button', { name: 'hash' }).click();
      await waitFor(() => partiesIn('webroom') === 1, 10_000);
      const afterExit: number[] = [];
      const byeReceived = (): Promise<boolean> =>
        page.evaluate(
          () => (window as unknown as { uasmediaJoin: { byeReceived: boolean } }).uasmediaJoin.byeReceived
        );
      for (let i = 0; i < 100 && !(await byeReceived()); i++) {
        try {
          afterExit.push(await bandDb(1));
        } catch (error) {
          // The BYE came between the check and the measurement: the page has let its audio go.
          if (await byeReceived()) break;
          throw error;
        }
      }
      await page.waitForFunction(
        () => (window as unknown as { uasmediaJoin: { byeReceived: boolean } }).uasmediaJoin.byeReceived,
        undefined,
        { timeout: 20_000 }
      );
      console.log(
        `speech bands before # ${beforeExit.toFixed(1)} dB, loudest after # ${Math.max(...afterExit).toFixed(1)} dB`
      );
      expect(Math.max(...afterExit)).toBeGreaterThan(beforeExit + 20);
      // The page answers the BYE (it did not, and the engine's transaction waited out Timer F).
      await waitFor(
        () => sent.some((m) => m.startsWith('SIP/2.0 200') && /^CSeq:\s*\d+ BYE/im.test(m)),
        10_000
      );
      await waitFor(() => engine.activeChannels().length === phoneChannels, 10_000);
      await page.close();
      await phone.close();
      await waitFor(() => engine.activeChannels().length === 0 && partiesIn('webroom') === 0, 10_000);
      expect(openPeerConnections()).toBe(0);
    }
  );

  it('restarting ICE (as after a network change) gets new credentials from the engine, and the call and its audio go on', async () => {
    const phone = await phoneIn('iceroom', 'teli');
    await waitFor(() => partiesIn('iceroom') === 1, 20_000);
    const received: string[] = [];
    const page = await joinFromPage('iceroom', 'Icy', [], received);
    await waitFor(() => partiesIn('iceroom') === 2, 20_000);
    // What the page hears of the phone above what it hears of itself, and what the phone hears of it.
    const hearing = async (): Promise<{ page: number; phone: number }> => {
      await sleep(1500);
      phone.clearReceived();
      const [pageHearsPhone, pageHearsItself] = await pageToneLevels(page, [PHONE_HZ, BROWSER_HZ]);
      return {
        page: pageHearsPhone - pageHearsItself,
        phone: toneLevelDb(phone.receivedPcm(), BROWSER_HZ, 8000)
      };
    };
    const before = await hearing();

    await page.evaluate(() =>
      (window as unknown as { uasmediaJoin: { restartIce: () => void } }).uasmediaJoin.restartIce()
    );
    await page.waitForFunction(
      () => (window as unknown as { uasmediaJoin: { iceRestarts: number } }).uasmediaJoin.iceRestarts === 1,
      undefined,
      { timeout: 20_000 }
    );
    const answers = received
      .filter((m) => m.startsWith('SIP/2.0 200') && /^CSeq:\s*\d+ INVITE/im.test(m))
      .map((m) => /a=ice-ufrag:(\S+)/.exec(m)?.[1]);
    expect(answers).toHaveLength(2);
    expect(answers[1]).toBeDefined();
    expect(answers[1]).not.toBe(answers[0]);
    const after = await hearing();
    console.log(
      `before the ICE restart the page hears ${PHONE_HZ} Hz ${before.page.toFixed(1)} dB above itself and the phone ${BROWSER_HZ} Hz at ${before.phone.toFixed(1)} dB; after, ${after.page.toFixed(1)} and ${after.phone.toFixed(1)} dB`
    );
    for (const heard of [before, after]) {
      expect(heard.page).toBeGreaterThan(25);
      expect(heard.phone).toBeGreaterThan(-40);
    }
    expect(partiesIn('iceroom')).toBe(2);
    expect(openPeerConnections()).toBe(1);
    await page.close();
    await phone.close();
    await waitFor(() => partiesIn('iceroom') === 0 && openPeerConnections() === 0, 15_000);
  });

  it('closing the tab mid-conference removes the party and leaks no room, channel, peer connection or port', async () => {
    const phone = await phoneIn('tabroom', 'telt');
    await waitFor(() => partiesIn('tabroom') === 1, 20_000);
    const phoneChannels = engine.activeChannels().length;
    const page = await joinFromPage('tabroom', 'Tabby');
    await waitFor(() => partiesIn('tabroom') === 2, 20_000);
    expect(openPeerConnections()).toBe(1);
    await page.close();
    await waitFor(() => partiesIn('tabroom') === 1, 15_000);
    await waitFor(
      () => openPeerConnections() === 0 && engine.activeChannels().length === phoneChannels,
      15_000
    );
    await phone.close();
    await waitFor(
      () =>
        engine.rooms.get('tabroom') === undefined &&
        engine.activeChannels().length === 0 &&
        engine.rtpPortsInUse === 0,
      15_000
    );
  });

  it('leaving and joining again from one tab leaves no AudioContext running', async () => {
    const page = await chromium.browser.newPage();
    await page.addInitScript(() => {
      const Base = window.AudioContext;
      const made: AudioContext[] = [];
      (window as unknown as { contextsMade: AudioContext[] }).contextsMade = made;
      window.AudioContext = class extends Base {
        constructor(options?: AudioContextOptions) {
          super(options);
          made.push(this);
        }
      };
    });
    await page.goto(`${pageUrl}?room=againroom&name=Again`);
    for (let round = 0; round < 3; round++) {
      await page.getByRole('button', { name: 'Join' }).click();
      await page.waitForFunction(
        () => (window as unknown as { uasmediaJoin: { state: string } }).uasmediaJoin.state === 'Established',
        undefined,
        { timeout: 30_000 }
      );
      await waitFor(() => partiesIn('againroom') === 1, 20_000);
      await page.getByRole('button', { name: 'Leave' }).click();
      await waitFor(() => partiesIn('againroom') === 0 && openPeerConnections() === 0, 15_000);
    }
    await page.waitForFunction(
      () =>
        (window as unknown as { contextsMade: AudioContext[] }).contextsMade.every(
          (c) => c.state === 'closed'
        ),
      undefined,
      { timeout: 10_000 }
    );
    await page.close();
  });

  it('a WebSocket that drops ends the call on the page too (the engine ends it: README)', async () => {
    const page = await chromium.browser.newPage();
    let toPage: WebSocketRoute | undefined;
    await page.routeWebSocket(/\/phone$/, (socket) => {
      toPage = socket;
      socket.connectToServer();
    });
    await page.goto(`${pageUrl}?room=droproom&name=Dropped`);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.waitForFunction(
      () => (window as unknown as { uasmediaJoin: { state: string } }).uasmediaJoin.state === 'Established',
      undefined,
      { timeout: 30_000 }
    );
    await waitFor(() => partiesIn('droproom') === 1, 20_000);
    // The page's WebSocket closes as when the network drops it (1011: not a close the page asked for).
    await toPage!.close({ code: 1011, reason: 'dropped' });
    await page.waitForFunction(
      () => (window as unknown as { uasmediaJoin: { state: string } }).uasmediaJoin.state === 'Terminated',
      undefined,
      { timeout: 15_000 }
    );
    expect(await page.locator('#status').textContent()).toContain('The call has ended');
    expect(await page.getByRole('button', { name: 'Join' }).isEnabled()).toBe(true);
    await page.close();
    await waitFor(() => partiesIn('droproom') === 0 && openPeerConnections() === 0, 15_000);
  });

  it(
    'npm start serves the page, takes a browser call, and exits 0 on Ctrl-C',
    { timeout: 150_000 },
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'engine/main.ts'], {
        // The overload guard refuses calls (503) while the frame clock runs late, which a busy test
        // host causes; this test is about the page and the exit, not the guard.
        env: {
          ...process.env,
          UASMEDIA_SIP_PORT: '0',
          UASMEDIA_WS_PORT: '0',
          UASMEDIA_LOG_LEVEL: 'warn',
          UASMEDIA_OVERLOAD_GUARD: 'off'
        },
        stdio: ['ignore', 'pipe', 'pipe']
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal }))
      );
      try {
        await waitFor(() => /http:\/\/127\.0\.0\.1:\d+\/\?room=demo/.test(output), 60_000);
        const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(output)![0];
        const page = await chromium.browser.newPage();
        await page.goto(`${url}?room=startroom&name=Starter`);
        await page.getByRole('button', { name: 'Join' }).click();
        await page
          .waitForFunction(
            () =>
              (window as unknown as { uasmediaJoin: { state: string } }).uasmediaJoin.state === 'Established',
            undefined,
            { timeout: 30_000 }
          )
          .catch(async (error: unknown) => {
            throw new Error(
              `the page did not join: ${await page.locator('#status').textContent()}; npm start said:\n${output}`,
              { cause: error }
            );
          });
        await sleep(1000);
        child.kill('SIGINT');
        const result = await exited;
        await page.close();
        expect(output).toContain('stopped.');
        expect(result).toEqual({ code: 0, signal: null });
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }
  );
});
