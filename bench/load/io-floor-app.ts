/**
 * The floor under the engine, for `npm run bench:load`: the same calls and the same RTP, with
 * nothing in between. The project's SIP stack answers each call with a port pair from the
 * engine's own pool; every
 * 20 ms tick of the engine's frame clock sends each call one 160-byte packet back to where its
 * packets come from, and received packets are only counted. What this process spends per
 * participant-frame is what Node's dgram and the kernel cost before any media work is done;
 * the engine's figure over it is the engine's own. Speaks the engine app's IPC protocol.
 */
import type dgram from 'node:dgram';
import { createFloorParts, floorAnswerSdp, runFloor, type FloorCounts } from './floor-process.js';

const PACKET_BYTES = 12 + 160;

interface Leg {
  socket: dgram.Socket;
  packet: Buffer;
  to: { address: string; port: number } | undefined;
  received: number;
  sent: number;
  seq: number;
}

const parts = createFloorParts();
const { ua, clock, portPool } = parts;
const legs = new Set<Leg>();
let closed = { received: 0, sent: 0 };

ua.on('invite', async (invite) => {
  const ports = await portPool.allocate();
  const socket = ports.rtpSocket;
  const leg: Leg = {
    socket,
    packet: Buffer.alloc(PACKET_BYTES, 0xff),
    to: undefined,
    received: 0,
    sent: 0,
    seq: 0
  };
  leg.packet[0] = 0x80;
  socket.on('message', (_msg, rinfo) => {
    leg.received++;
    leg.to ??= { address: rinfo.address, port: rinfo.port };
    clock.runIfDue(); // as the engine's RTP sessions do
  });
  const port = ports.rtpPort;
  invite.on('terminated', () => {
    legs.delete(leg);
    closed = { received: closed.received + leg.received, sent: closed.sent + leg.sent };
    ports.release();
  });
  legs.add(leg);
  await invite.accept(floorAnswerSdp('floor', port)).catch(() => undefined);
});

clock.on('tick', () => {
  for (const leg of legs) {
    if (!leg.to) continue;
    leg.packet.writeUInt16BE(leg.seq++ & 0xffff, 2);
    leg.socket.send(leg.packet, leg.to.port, leg.to.address);
    leg.sent++;
  }
});

function counts(): FloorCounts {
  let packetsIn = closed.received;
  let packetsOut = closed.sent;
  for (const leg of legs) {
    packetsIn += leg.received;
    packetsOut += leg.sent;
  }
  // Rooms mean nothing here: one echo per call.
  return { packetsIn, packetsOut, calls: legs.size, rooms: legs.size };
}

await runFloor(parts, counts);
