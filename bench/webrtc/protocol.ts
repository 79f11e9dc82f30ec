/** Messages between the WebRTC bench's orchestrator and its engine process. */

export interface WebRtcEngineSample {
  /** CPU of the whole process (every thread: the engine's JS and @roamhq/wrtc's own threads). */
  cpuUs: number;
  /** CPU of the main thread alone: the engine's JavaScript and WebAssembly. */
  mainThreadCpuUs: number;
  threads: number;
  rssBytes: number;
  ticks: number;
  lateTicks: number;
  latenessMsP99: number;
  workMsMean: number;
  calls: number;
  peerConnections: number;
}

export type ToWebRtcEngine = { type: 'sample' } | { type: 'resetClock' } | { type: 'stop' };
export type FromWebRtcEngine =
  { type: 'ready'; sipPort: number; wsPort: number } | { type: 'sample'; sample: WebRtcEngineSample };
