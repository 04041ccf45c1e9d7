import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

// Keys whose values are secrets wherever they appear in a log object, at any depth
// (channel rows, LuxSci auth bodies, SFTP options, HTTP headers).
const SECRET_KEY_PATTERN =
  /^(pass|password|passwd|secret|api_?secret|luxsci_?secret.*|.*_enc|token|api_?token|luxsci_?token|auth|authorization|cookie|set-cookie|signature|destination_password|sftp_?password.*|secret_?key|private_?key)$/i;

// Credentials inside strings: passwords in URLs (sftp://user:pw@host, postgresql://u:pw@h),
// LuxSci's destination_password query parameter and signature cookies.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]+@/gi;
const QUERY_SECRET = /((?:destination_password|password|pass|secret|token|auth)=)[^&\s"]+/gi;
const COOKIE_SIGNATURE = /(signature=)[^;\s"]+/gi;

export const REDACTED = "[redacted]";

/** Scrubs credentials out of a free-text string (error messages, URLs). */
export function redactString(text: string): string {
  return text
    .replace(URL_PASSWORD, "$1:***@")
    .replace(QUERY_SECRET, `$1${REDACTED}`)
    .replace(COOKIE_SIGNATURE, `$1${REDACTED}`);
}

/**
 * Deep copy of a value with secrets removed: values under secret-looking keys become
 * "[redacted]", and strings are scrubbed of URL passwords and secret query parameters.
 * Errors keep their type, message and stack (scrubbed). Cycles are cut.
 */
export function redactSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, seen));
  const out: Record<string, unknown> = {};
  if (value instanceof Error) {
    out.type = value.name;
    out.message = redactString(value.message);
    if (value.stack) out.stack = redactString(value.stack);
  }
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      SECRET_KEY_PATTERN.test(key) && inner != null ? REDACTED : redactSecrets(inner, seen);
  }
  return out;
}

export interface LoggerOptions {
  level?: string;
  /** Component name, e.g. "worker" or "producer". */
  name?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read lines back. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

/**
 * A pino logger that writes one JSON line per event (STYLE.md 12) and never writes a secret:
 * every object and message passes through redactSecrets before it is serialised.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? "info",
      name: options.name,
      base: { ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactSecrets(object) as Record<string, unknown>,
      },
      serializers: { err: (err: unknown) => redactSecrets(err) },
      hooks: {
        // Messages and printf-style arguments are strings the formatters never see.
        logMethod(args, method) {
          method.apply(this, args.map((arg) => redactSecrets(arg)) as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
  // pino gives child loggers a fresh bindings formatter, so child bindings ({ token } say)
  // would skip redaction: redact them on the way in. Children inherit this method.
  const pinoChild = logger.child;
  logger.child = function child(this: Logger, bindings, childOptions) {
    return pinoChild.call(this, redactSecrets(bindings) as typeof bindings, childOptions);
  } as Logger["child"];
  return logger;
}
