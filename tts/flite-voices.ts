/**
 * The voices compiled into the Flite WASI build (`flite -lv`), with their native sample rates.
 * Kept apart from the engine so the main thread can list them without loading node:wasi.
 * awb_time is a limited-domain talking-clock voice and is left out.
 */
export const FLITE_VOICES: Readonly<Record<string, number>> = {
  kal: 8000,
  kal16: 16000,
  awb: 16000,
  rms: 16000,
  slt: 16000
};
