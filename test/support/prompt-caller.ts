/** What a caller of the meet-me prompts does: wait for a prompt to end, key digits in (SIP INFO). */
import type { TonePhone } from './tone-phone.js';
import { rmsDbfs } from './tone-analysis.js';
import { sleep, waitFor } from './wait.js';

/** Waits until the prompt the caller is hearing has ended (1 s of quiet after some sound). */
export async function promptEnded(phone: TonePhone): Promise<void> {
  await waitFor(() => {
    const pcm = phone.receivedPcm();
    let lastLoud = -1;
    for (let i = 0; i + 160 <= pcm.length; i += 160)
      if (rmsDbfs(pcm.subarray(i, i + 160)) > -45) lastLoud = i;
    return lastLoud >= 0 && pcm.length - lastLoud > 8000;
  }, 30000);
  phone.clearReceived();
}

export async function keyIn(phone: TonePhone, digits: string): Promise<void> {
  for (const digit of digits) {
    await phone.infoDigit(digit);
    await sleep(50);
  }
}
