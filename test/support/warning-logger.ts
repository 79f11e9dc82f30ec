/** A logger for a SipUserAgent under test that keeps every warning (message and details) and drops the rest. */
export interface LoggedWarning {
  msg: string;
  details: object;
}

export function warningLogger(): {
  logger: { debug(): void; info(): void; error(): void; warn(details: object, msg?: string): void };
  warnings: LoggedWarning[];
} {
  const warnings: LoggedWarning[] = [];
  const logger = {
    debug() {},
    info() {},
    error() {},
    warn(details: object, msg?: string) {
      warnings.push({ msg: msg ?? '', details });
    }
  };
  return { logger, warnings };
}
