// LuxSci report dates are GMT "YYYY-MM-DD HH:MM:SS" (seed 000 inbound step 1: after_date).

const LUXSCI_DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Formats a Date as LuxSci's GMT "YYYY-MM-DD HH:MM:SS" (milliseconds dropped). */
export function formatLuxSciDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError("formatLuxSciDate: invalid Date");
  return date.toISOString().slice(0, 19).replace("T", " ");
}

/** Parses LuxSci's GMT "YYYY-MM-DD HH:MM:SS" into a Date; undefined when it isn't one. */
export function parseLuxSciDate(text: string): Date | undefined {
  const match = LUXSCI_DATE.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
  return formatLuxSciDate(date) === text ? date : undefined;
}

/** Epoch seconds as the string the auth body's `date` carries. */
export function epochSeconds(nowMs: number = Date.now()): string {
  return String(Math.floor(nowMs / 1000));
}
