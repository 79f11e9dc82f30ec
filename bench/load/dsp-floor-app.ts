/**
 * The ceiling over the engine, for `npm run bench:load`: the I/O floor (io-floor-app.ts) plus the
 * DSP core and nothing else. Each call's received payload is copied straight into its party slot
 * (no RTP parsing, source rules, statistics or jitter buffer); every 20 ms tick runs each room's
 * one `processRoom` (decode, in-band DTMF and talker measurement, mix-minus, encode) and sends
 * each party's output packet from WebAssembly memory with a bare RTP header. It is what a data
 * path that did every per-frame step but the DSP for free would cost: the most any engine with
 * this DSP could carry on these sockets. Speaks the engine app's IPC protocol.
 */
import type dgram from 'node:dgram';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { INPUT_SILENT, RTP_HEADER_BYTES, codecRateHz } from '../../engine/dsp/kernels.js';
import { loadCodecFromEnv } from './caller-audio.js';
import { requestedRoom } from '../support/requested-room.js';
import { createFloorParts, floorAnswerSdp, runFloor, type FloorCounts } from './floor-process.js';

interface Leg {
  socket: dgram.Socket;
  slot: number;
  input: Uint8Array;
  packet: Buffer;
  inputBytes: number;
  to: { address: string; port: number } | undefined;
  received: number;
  sent: number;
  seq: number;
}

interface Room {
  slot: number;
  legs: Leg[];
}

// G.722 callers (--codec=G722): G.722 parties in 16 kHz rooms, as the engine makes them.
const codec = loadCodecFromEnv();
const parts = createFloorParts();
const { ua, clock, portPool } = parts;
const kernels = new WasmKernels();
const rooms = new Map<string, Room>();
let closed = { received: 0, sent: 0 };

ua.on('invite', async (invite) => {
  const name = requestedRoom(invite.requestUri, 'lobby');
  let room = rooms.get(name);
  if (!room) {
    room = { slot: kernels.createRoom(codecRateHz(codec)), legs: [] };
    rooms.set(name, room);
  }
  const ports = await portPool.allocate();
  const slot = kernels.createParty(codec);
  kernels.addParty(room.slot, slot);
  const leg: Leg = {
    socket: ports.rtpSocket,
    slot,
    input: kernels.inputPayload(slot),
    packet: kernels.outputPacket(slot),
    inputBytes: INPUT_SILENT,
    to: undefined,
    received: 0,
    sent: 0,
    seq: 0
  };
  leg.socket.on('message', (msg: Buffer, rinfo) => {
    leg.received++;
    leg.to ??= { address: rinfo.address, port: rinfo.port };
    if (msg.length > RTP_HEADER_BYTES) leg.inputBytes = msg.copy(leg.input, 0, RTP_HEADER_BYTES);
    clock.runIfDue(); // as the engine's RTP sessions do
  });
  const joined = room;
  invite.on('terminated', () => {
    joined.legs.splice(joined.legs.indexOf(leg), 1);
    kernels.destroyParty(slot);
    if (joined.legs.length === 0) {
      kernels.destroyRoom(joined.slot);
      rooms.delete(name);
    }
    closed = { received: closed.received + leg.received, sent: closed.sent + leg.sent };
    ports.release();
  });
  room.legs.push(leg);
  await invite.accept(floorAnswerSdp('dspfloor', ports.rtpPort)).catch(() => undefined);
});

clock.on('tick', () => {
  for (const room of rooms.values()) {
    const legs = room.legs;
    for (let i = 0; i < legs.length; i++) {
      kernels.setInput(legs[i].slot, legs[i].inputBytes);
      legs[i].inputBytes = INPUT_SILENT;
    }
    kernels.processRoom(room.slot);
    for (let i = 0; i < legs.length; i++) {
      const leg = legs[i];
      if (!leg.to) continue;
      const packet = leg.packet;
      const seq = leg.seq++;
      packet[0] = 0x80;
      packet[1] = 0;
      packet.writeUInt16BE(seq & 0xffff, 2);
      packet.writeUInt32BE((seq * 160) >>> 0, 4);
      packet.writeUInt32BE(leg.slot, 8);
      leg.socket.send(
        packet,
        0,
        RTP_HEADER_BYTES + kernels.outputBytes(leg.slot),
        leg.to.port,
        leg.to.address
      );
      leg.sent++;
    }
  }
});

function counts(): FloorCounts {
  let packetsIn = closed.received;
  let packetsOut = closed.sent;
  let calls = 0;
  for (const room of rooms.values()) {
    for (const leg of room.legs) {
      packetsIn += leg.received;
      packetsOut += leg.sent;
      calls++;
    }
  }
  return { packetsIn, packetsOut, calls, rooms: rooms.size };
}

await runFloor(parts, counts, () => kernels.close());
