import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

// Keys whose values are secrets wherever they appear in a log object, at any depth
// (channel rows, LuxSci auth bodies, SFTP options, HTTP headers, config). A key is split
// into words (camelCase, snake_case, kebab-case: luxsciPassword, api_key, x-api-key) and is
// secret when a word is a secret's name, or when it ends in a token or a credential key.
// Flags (hasPassword, isSecret) and names ending otherwise (luxsciTokenHint, tokens,
// sftpHostKey, apiKeyName) are kept.
const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "passphrase",
  "secret",
  "secrets",
  "authorization",
  "cookie",
  "signature",
  "credential",
  "credentials",
  // Run-together forms (apikey, accesstoken, setcookie, ...) of the names below.
  "apikey",
  "apisecret",
  "accesstoken",
  "refreshtoken",
  "privatekey",
  "secretkey",
  "clientsecret",
  "setcookie",
]);
/** Secret only as a key's last word: `token` but not `tokenHint`, `pass` but not `passCount`. */
const SECRET_LAST_WORDS = new Set(["token", "pass", "pwd", "auth", "enc"]);
/** Secret as a key's last two words. */
const SECRET_LAST_PAIRS = new Set(["api key", "private key", "access key", "session key"]);
const FLAG_PREFIXES = new Set(["has", "is"]);

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when values under `key` are secrets (see SECRET_WORDS). */
export function isSecretKey(key: string): boolean {
  const words = keyWords(key);
  if (words.length === 0 || FLAG_PREFIXES.has(words[0] as string)) return false;
  const last = words.at(-1) as string;
  return (
    words.some((word) => SECRET_WORDS.has(word)) ||
    SECRET_LAST_WORDS.has(last) ||
    SECRET_LAST_PAIRS.has(words.slice(-2).join(" "))
  );
}

// Credentials inside strings: passwords in URLs (sftp://user:pw@host, postgresql://u:pw@h),
// LuxSci's destination_password query parameter and signature cookies.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]+@/gi;
const QUERY_SECRET =
  /((?:destination_password|password|pass|secret|token|auth|api_?key|access_token)=)[^&\s"]+/gi;
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
    out[key] = isSecretKey(key) && inner != null ? REDACTED : redactSecrets(inner, seen);
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
 * A pino logger that writes one JSON line per event (docs/architecture.md "Code style" 12) and
 * never writes a secret: every object and message passes through redactSecrets before it is
 * serialised.
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
