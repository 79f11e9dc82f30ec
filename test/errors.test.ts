import { describe, expect, it } from 'vitest';
import {
  AnnouncementError,
  ClosedError,
  EngineError,
  HangupError,
  InvalidArgumentError,
  InvalidStateError
} from '../engine/errors.js';
import { Cause, causeFromSipStatus, State, TransferCause } from '../engine/state.js';

describe('errors', () => {
  it.each([
    [new InvalidStateError('x'), 'InvalidStateError', 'ERR_INVALID_STATE'],
    [new InvalidArgumentError('name', 'x'), 'InvalidArgumentError', 'ERR_INVALID_ARGUMENT'],
    [new HangupError(), 'HangupError', 'ERR_HANGUP'],
    [new ClosedError('room'), 'ClosedError', 'ERR_CLOSED'],
    [
      new AnnouncementError({ roomName: 'r1', channelId: 'ch1', kind: 'entry' }, new Error('x')),
      'AnnouncementError',
      'ERR_ANNOUNCEMENT_FAILED'
    ]
  ])('%s is an EngineError with its name and code', (error, name, code) => {
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(String(error)).toContain(name);
  });

  it('InvalidStateError.forState says the current and the expected state', () => {
    const error = InvalidStateError.forState('channel', State.TRANSFERRED, [State.ANSWERED], 'playFile');
    expect(error.message).toBe('cannot playFile: channel is TRANSFERRED, expected ANSWERED');
    expect(error.state).toBe('TRANSFERRED');
    expect(error.expected).toEqual(['ANSWERED']);
  });

  it('InvalidStateError.forState lists several expected states', () => {
    expect(InvalidStateError.forState('call', 'IDLE', ['A', 'B']).message).toBe(
      'call is IDLE, expected one of A, B'
    );
  });

  it('AnnouncementError names the room, the channel and the announcement, and keeps its cause', () => {
    const cause = new Error("prompt file 'x.wav' does not exist");
    const error = new AnnouncementError({ roomName: 'r1', channelId: 'ch7', kind: 'exit' }, cause);
    expect(error.message).toBe(
      "exit announcement of channel ch7 in room 'r1' played without a part: prompt file 'x.wav' does not exist"
    );
    expect(error).toMatchObject({ roomName: 'r1', channelId: 'ch7', kind: 'exit', cause });
  });

  it('InvalidArgumentError names the argument', () => {
    expect(
      new InvalidArgumentError('conferenceRoomName', "room name 'a b' must be alphanumeric").argument
    ).toBe('conferenceRoomName');
  });
});

describe('State, Cause and TransferCause', () => {
  it('are string enums whose values are their names', () => {
    for (const e of [State, Cause, TransferCause]) {
      for (const [key, value] of Object.entries(e)) expect(value).toBe(key);
    }
  });

  it('have exactly the values of the original API', () => {
    expect(Object.keys(State)).toEqual([
      'WAITING',
      'CALL_INCOMING',
      'RING_INCOMING',
      'ANSWERING',
      'ANSWERED',
      'CALL_OUTGOING',
      'RING_OUTGOING',
      'HOLDING',
      'ON_HOLD',
      'TRANSFERRING',
      'TRANSFERRED',
      'RECONNECTING',
      'ERROR',
      'IDLE'
    ]);
    expect(Object.keys(Cause)).toEqual([
      'TIMEOUT',
      'ERROR',
      'NORMAL',
      'BUSY',
      'NOANSWER',
      'UNOBTAINABLE',
      'CHANGED',
      'OUTOFORDER',
      'BARRED',
      'REJECTED',
      'NOCHANNELS',
      'CONGESTION',
      'FAILED',
      'OTHER'
    ]);
    expect(Object.keys(TransferCause)).toEqual([
      'NONE',
      'NORMAL',
      'TIMEOUT',
      'HANGUP',
      'TARGETREJECT',
      'TARGETHANGUP',
      'FAIL'
    ]);
  });
});

describe('causeFromSipStatus', () => {
  it.each([
    [486, Cause.BUSY],
    [600, Cause.BUSY],
    [480, Cause.NOANSWER],
    [408, Cause.NOANSWER],
    [404, Cause.UNOBTAINABLE],
    [484, Cause.UNOBTAINABLE],
    [403, Cause.BARRED],
    [603, Cause.REJECTED],
    [503, Cause.CONGESTION],
    [410, Cause.CHANGED],
    [502, Cause.OUTOFORDER],
    [200, Cause.NORMAL]
  ])('maps %i to %s', (status, cause) => {
    expect(causeFromSipStatus(status)).toBe(cause);
  });

  it('falls back by class for statuses without their own mapping', () => {
    expect([
      causeFromSipStatus(415),
      causeFromSipStatus(500),
      causeFromSipStatus(699),
      causeFromSipStatus(302)
    ]).toEqual([Cause.FAILED, Cause.ERROR, Cause.REJECTED, Cause.OTHER]);
  });

  it('gives OTHER for anything that is not a final status', () => {
    expect([
      causeFromSipStatus(180),
      causeFromSipStatus(700),
      causeFromSipStatus(486.5),
      causeFromSipStatus(Number.NaN)
    ]).toEqual([Cause.OTHER, Cause.OTHER, Cause.OTHER, Cause.OTHER]);
  });
});
