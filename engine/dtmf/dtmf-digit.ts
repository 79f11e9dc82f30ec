/**
 * The sixteen DTMF digits (ITU-T Q.23: 0-9, *, #, A-D; RFC 4733 §3.2 events 0-15) and the
 * one place that validates them. API arguments must use the canonical upper-case form;
 * digits from the network (SIP INFO bodies) are normalised, as peers send 'a'-'d' too.
 */
import { InvalidArgumentError } from '../errors.js';

export type DtmfDigit =
  '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

const DIGIT_PATTERN = /^[0-9A-D#*]$/;

/** Whether `value` is one DTMF digit (upper-case letters only). */
export function isDtmfDigit(value: unknown): value is DtmfDigit {
  return typeof value === 'string' && DIGIT_PATTERN.test(value);
}

/** The digit in canonical form, or undefined when `value` is not a DTMF digit. */
export function normaliseDtmfDigit(value: unknown): DtmfDigit | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  return isDtmfDigit(upper) ? upper : undefined;
}

/**
 * Validates an API argument that must be one DTMF digit. Throws `TypeError` for a
 * non-string and `InvalidArgumentError` for any other string.
 */
export function parseDtmfDigit(argument: string, value: unknown): DtmfDigit {
  if (typeof value !== 'string') {
    throw new TypeError(`${argument} must be a string, got ${describe(value)}`);
  }
  if (!isDtmfDigit(value)) {
    throw new InvalidArgumentError(
      argument,
      `${argument} '${value}' must be one DTMF digit: 0-9, A-D, # or *`
    );
  }
  return value;
}

/** Short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
