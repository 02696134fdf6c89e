import { describe, expect, it } from 'vitest';
import { requestEvent } from './session.ts';

describe('requestEvent', () => {
  it('gives one frozen event per wire, command and outcome, shared between calls', () => {
    const event = requestEvent('framed', 'CLOCK', true);
    expect(event).toEqual({ type: 'request', wire: 'framed', command: 'CLOCK', ok: true });
    expect(Object.isFrozen(event)).toBe(true);
    expect(requestEvent('framed', 'CLOCK', true)).toBe(event);
    expect(requestEvent('seed', 'CLOCK', true)).not.toBe(event);
    expect(requestEvent('framed', 'CLOCK', false).ok).toBe(false);
  });
});
