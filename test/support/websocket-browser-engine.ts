/**
 * An answering engine on 127.0.6.1 that takes SIP over a WebSocket, and a client connected to it
 * as a browser would be: for tests that send browser offers written by hand.
 */
import type { Engine } from '../../engine/index.js';
import type { WebRtcOptions } from '../../engine/webrtc/webrtc-options.js';
import type { SipResponse } from '../../sip/message/message.js';
import { startAnsweringEngine } from './answering-engine.js';
import { WsSipClient } from './ws-sip-client.js';

const BROWSER_ENGINE_HOST = '127.0.6.1';

export interface BrowserEngine {
  engine: Engine;
  browser: WsSipClient;
  /** The final response to an INVITE of `sip:room@…` carrying `offer`. */
  inviteRoom(offer: string, callId: string): Promise<SipResponse>;
  stop(): Promise<void>;
}

export async function startBrowserEngine(
  rtp: { minPort: number; maxPort: number },
  webrtc: WebRtcOptions
): Promise<BrowserEngine> {
  const host = BROWSER_ENGINE_HOST;
  const { engine } = await startAnsweringEngine(rtp, {
    sip: { host, port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    webrtc: { iceServers: [], ...webrtc }
  });
  const browser = await WsSipClient.toEngine(engine, host);
  return {
    engine,
    browser,
    inviteRoom: (offer, callId) => browser.invite(`sip:room@${host}`, callId, offer),
    stop: async () => {
      browser.socket.terminate();
      await engine.stop();
    }
  };
}
