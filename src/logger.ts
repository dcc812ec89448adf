// Structured logs (pino) on standard error, so command output on standard output stays clean.
import { pino, type Logger } from 'pino';

/**
 * Logs carry ids, counts and error codes, never names or free text about people. The redaction
 * is a second line of defence for a field logged by mistake.
 */
const freeTextFields = ['text', 'note', 'reason', 'name', 'displayName', 'address', 'body', 'payload', 'rawRow'];

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { app: 'dmm-bot' },
      redact: { paths: [...freeTextFields, ...freeTextFields.map((f) => `*.${f}`)], censor: '[redacted]' },
    },
    pino.destination(2),
  );
}

export const logger = createLogger();
