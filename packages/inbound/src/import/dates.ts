// Report dates (seed 000 inbound step 1) are "YYYY-MM-DD HH:MM:SS" wall times: GMT by
// default, or the server's local time when the channel's "event timezone override"
// (OverrideOHStateTimestampUsingServerTimezone, inbound step 8) says so. Parsing runs once per
// report row, a million times per import, so it reads characters instead of running a regex
// and converts zones with an offset cached per wall-clock hour.

const HOUR_MS = 3_600_000;
// Far enough from any instant that at most one zone transition lies between (real zones
// change offset at most twice a year), near enough that one always does when it matters.
const TRANSITION_WINDOW_MS = 36 * HOUR_MS;

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}

/**
 * The wall time of "YYYY-MM-DD HH:MM:SS" (a "T" separator is accepted too) as milliseconds
 * since the epoch read as if it were UTC; null when the text is no such date or names a day
 * that does not exist (2023-02-30).
 */
export function parseWallTime(text: string): number | null {
  if (text.length !== 19) return null;
  const sep = text.charCodeAt(10);
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    (sep !== 32 && sep !== 84) ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return null;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return null;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls Feb 30 over into March: a day that changed month did not exist.
  if (new Date(ms).getUTCDate() !== day) return null;
  return ms;
}

/** Converts wall times in one IANA zone to instants. */
export interface WallClock {
  /** The instant (epoch ms) of a wall time given as parseWallTime's number. */
  toInstant(wallMs: number): number;
}

const UTC_CLOCK: WallClock = { toInstant: (wallMs) => wallMs };

/**
 * A converter for wall times in `timeZone` (null/undefined/"UTC": GMT, LuxSci's default).
 * Throws a RangeError for a zone name Intl doesn't know, before any row is read.
 *
 * Wall times a transition skips (02:30 on a spring-forward night) move forward by the gap;
 * wall times it repeats (01:30 on a fall-back night) take the earlier instant: Temporal's
 * "compatible" disambiguation, which is also what a clock on the wall would have shown first.
 */
export function createWallClock(timeZone: string | null | undefined): WallClock {
  if (!timeZone || timeZone === "UTC" || timeZone === "GMT" || timeZone === "Etc/UTC") {
    return UTC_CLOCK;
  }
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  // The zone's offset at an instant: its wall time there, read as UTC, minus the instant.
  const offsetAt = (instant: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(instant))) {
      if (part.type !== "literal") parts[part.type] = Number(part.value);
    }
    const wall = Date.UTC(
      parts.year ?? 0,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return wall - Math.floor(instant / 1000) * 1000;
  };
  const exact = (wallMs: number): number => {
    const before = offsetAt(wallMs - TRANSITION_WINDOW_MS);
    const after = offsetAt(wallMs + TRANSITION_WINDOW_MS);
    if (before === after) return wallMs - before;
    const earlier = wallMs - before;
    const later = wallMs - after;
    const fits = (instant: number) => instant + offsetAt(instant) === wallMs;
    const candidates = [earlier, later].filter(fits).sort((a, b) => a - b);
    // No candidate: the wall time fell in a gap; the offset from before it moves it forward.
    return candidates[0] ?? earlier;
  };
  // Offsets only change at transitions, so one per wall-clock hour serves every row of that
  // hour unless a transition is near, where each row is converted exactly.
  const hourOffset = new Map<number, number | null>();
  return {
    toInstant(wallMs) {
      const hour = Math.floor(wallMs / HOUR_MS);
      let offset = hourOffset.get(hour);
      if (offset === undefined) {
        const start = hour * HOUR_MS;
        const before = offsetAt(start - TRANSITION_WINDOW_MS);
        offset = before === offsetAt(start + TRANSITION_WINDOW_MS) ? before : null;
        hourOffset.set(hour, offset);
      }
      return offset === null ? exact(wallMs) : wallMs - offset;
    },
  };
}
