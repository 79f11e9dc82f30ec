/**
 * Runs baresip (Debian baresip-core 1.0) as a headless test peer: a temporary config directory
 * with only the modules a test needs (G.711, a WAV file as microphone, sndfile dumps of what it
 * sends and hears, stdio for commands), commands written to its stdin, and a hard kill in cleanup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';

export interface BaresipOptions {
  /** Mono 16-bit PCM at 8 kHz (16 kHz for G.722) that baresip sends as its microphone. */
  microphone: Int16Array;
  /** The one codec it offers (default PCMU); G722 (g722.so, spandsp's) runs its audio at 16 kHz. */
  codec?: 'PCMU' | 'G722';
  /** SIP port (default any); baresip listens for TLS on this port + 1. */
  sipPort?: number;
  /** Media encryption of the account (loads srtp.so): 'srtp-mand' offers RTP/SAVP with a=crypto only. */
  mediaenc?: 'srtp' | 'srtp-mand' | 'srtp-mandf';
  /** PEM file holding certificate and key, for SIP over TLS. */
  certificatePath?: string;
  /** PEM file of the CA that signed the engine's certificate. */
  caPath?: string;
  /** Its SIP user name (default 'baresip'). */
  user?: string;
  /** Answer incoming calls at once. */
  autoAnswer?: boolean;
}

export class Baresip {
  readonly dir: string;
  private readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(options: BaresipOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'baresip-'));
    const g722 = options.codec === 'G722';
    const rateHz = g722 ? 16000 : 8000;
    const wav = new wavefile.WaveFile();
    wav.fromScratch(1, rateHz, '16', options.microphone);
    writeFileSync(join(this.dir, 'mic.wav'), wav.toBuffer());
    writeFileSync(
      join(this.dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${options.sipPort ?? 0}`,
        ...(options.certificatePath ? [`sip_certificate ${options.certificatePath}`] : []),
        ...(options.caPath ? [`sip_cafile ${options.caPath}`] : []),
        `audio_source aufile,${join(this.dir, 'mic.wav')}`,
        `audio_srate ${rateHz}`,
        'audio_channels 1',
        'module_path /usr/lib/baresip/modules',
        g722 ? 'module g722.so' : 'module g711.so',
        'module aufile.so',
        'module sndfile.so',
        'module stdio.so',
        ...(options.mediaenc ? ['module srtp.so'] : []),
        'module_app menu.so',
        'module_app account.so',
        ''
      ].join('\n')
    );
    const mediaenc = options.mediaenc ? `;mediaenc=${options.mediaenc}` : '';
    const answer = options.autoAnswer ? ';answermode=auto' : '';
    writeFileSync(
      join(this.dir, 'accounts'),
      `<sip:${options.user ?? 'baresip'}@127.0.0.1>;regint=0;audio_codecs=${g722 ? 'G722' : 'PCMU/8000/1'}${mediaenc}${answer}\n`
    );
    this.child = spawn('baresip', ['-f', this.dir], { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Types into baresip's console (commands start with '/', bare digits are DTMF during a call). */
  type(text: string): void {
    this.child.stdin?.write(text);
  }

  /** What baresip decoded from the far end (sndfile's dump-*-dec.wav), as PCM. */
  heard(): Int16Array {
    const file = readdirSync(this.dir).find((f) => f.endsWith('-dec.wav'));
    if (!file) return new Int16Array(0);
    const wav = new wavefile.WaveFile(readFileSync(join(this.dir, file)));
    return Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array);
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      this.type('/quit\n');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
