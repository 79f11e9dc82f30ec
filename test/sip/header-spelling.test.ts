/**
 * Header names as the stack writes them: RFC 4028's Min-SE went out as `Min-Se` (legal, names are
 * case-insensitive, but a carrier's case-sensitive parser or grep misses it).
 */
import { describe, expect, it } from 'vitest';
import { headerSpelling } from '../../sip/message/header-names.js';
import { SipResponse } from '../../sip/message/message.js';

describe('header spelling', () => {
  it('writes Min-SE as RFC 4028 spells it, however it was named', () => {
    const response = new SipResponse(422, 'Session Interval Too Small');
    response.add('min-se', '90');
    expect(response.toBuffer().toString()).toContain('\r\nMin-SE: 90\r\n');
    expect(headerSpelling('MIN-SE')).toEqual({ name: 'Min-SE', key: 'min-se' });
  });
});
