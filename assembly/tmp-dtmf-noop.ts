// TEMPORARY stand-in for assembly/dtmf.ts (DTMF engineer's) so the room core builds; removed once it lands.
export const DTMF_STATE_BYTES: i32 = 16;
export function dtmfInit(state: usize, sampleRateHz: i32): void {
  store<i32>(state, sampleRateHz);
}
export function dtmfProcess(state: usize, pcm: usize, nSamples: i32): i32 {
  return 0;
}
export function dtmfResultStartSample(state: usize): i64 {
  return 0;
}
export function dtmfResultDurationSamples(state: usize): i32 {
  return 0;
}
export function dtmfToneActive(state: usize): bool {
  return false;
}
