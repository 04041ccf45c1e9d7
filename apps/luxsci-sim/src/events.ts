import { hash32, mulberry32, pick, randomInt } from "@luxrelay/sim-kit";

// Deterministic delivery events (seed 000 inbound step 1: sent, delivered, opens, clicks, fbl;
// step 10: the suppression list). Everything about one message is drawn from a PRNG seeded
// by hash(seed, sendmail id), so the same run gives the same reports, and details can be
// recomputed lazily instead of stored for a million messages.

export interface TEventRates {
  hardFail: number;
  failed: number;
  spam: number;
  /** Of delivered messages. */
  open: number;
  /** Of opened messages. */
  click: number;
  /** Of delivered messages. */
  fbl: number;
  /** Of delivered messages. */
  unsubscribe: number;
}

/** [min, max] delays in ms (multiplied by eventDelayScale). */
export interface TEventDelays {
  /** Send -> delivery status. */
  deliveryMs: [number, number];
  /** Delivery -> first open. */
  openMs: [number, number];
  /** Open -> click. */
  clickMs: [number, number];
  /** Delivery -> complaint. */
  fblMs: [number, number];
  /** Delivery -> unsubscribe. */
  unsubscribeMs: [number, number];
}

export const STATUSES = ["Delivered", "HardFail", "Failed", "Spam"] as const;
export const DELIVERED = 0;

export interface EventModel {
  seed: number;
  rates: TEventRates;
  delays: TEventDelays;
  scale: number;
}

/** The compact outcome kept per ledger entry (typed arrays). Offsets are ms after send. */
export interface EventSummary {
  status: number;
  deliveryMs: number;
  opens: number;
  clicks: number;
  /** -1: none */
  fblMs: number;
  /** -1: none */
  unsubscribeMs: number;
}

export interface OpenEvent {
  afterMs: number;
  ip: string;
  userAgent: string;
}

export interface ClickEvent extends OpenEvent {
  url: string;
}

export interface EventDetails extends EventSummary {
  details: string;
  tlsDetails: string | null;
  openEvents: OpenEvent[];
  clickEvents: ClickEvent[];
  unsubscribeIp: string;
}

const USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36",
  "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 Safari/605.1.15",
];

const URLS = [
  "http://www.example.com",
  "https://www.example.com/offers/june-sales",
  "https://www.example.com/account",
  "https://shop.example.com/cart?utm_source=luxsci",
];

function mxFor(to: string): string {
  const domain = (to.split(",")[0] ?? "").split("@")[1]?.toLowerCase() ?? "example.com";
  if (domain === "gmail.com" || domain === "googlemail.com") return "gmail-smtp-in.l.google.com";
  if (domain.startsWith("yahoo.")) return "mta7.am0.yahoodns.net";
  if (domain === "outlook.com" || domain === "hotmail.com") {
    return "outlook-com.olc.protection.outlook.com";
  }
  return `mx1.${domain}`;
}

function randomIp(random: () => number): string {
  return `${randomInt(random, 11, 223)}.${randomInt(random, 0, 255)}.${randomInt(random, 0, 255)}.${randomInt(random, 1, 254)}`;
}

function delay(random: () => number, [min, max]: [number, number], scale: number): number {
  return Math.round(randomInt(random, min, max) * scale);
}

/** The cheap part, computed at send: status, delays and counts. */
export function summarizeEvents(model: EventModel, sendmailId: string): EventSummary {
  const random = mulberry32(hash32(sendmailId, model.seed));
  const { rates, delays, scale } = model;
  const roll = random();
  const status =
    roll < rates.hardFail
      ? 1
      : roll < rates.hardFail + rates.failed
        ? 2
        : roll < rates.hardFail + rates.failed + rates.spam
          ? 3
          : DELIVERED;
  const deliveryMs = delay(random, delays.deliveryMs, scale);
  const delivered = status === DELIVERED;
  const opens = delivered && random() < rates.open ? randomInt(random, 1, 3) : 0;
  const clicks = opens > 0 && random() < rates.click ? randomInt(random, 1, 2) : 0;
  const fblMs =
    delivered && random() < rates.fbl ? deliveryMs + delay(random, delays.fblMs, scale) : -1;
  const unsubscribeMs =
    delivered && random() < rates.unsubscribe
      ? deliveryMs + delay(random, delays.unsubscribeMs, scale)
      : -1;
  return { status, deliveryMs, opens, clicks, fblMs, unsubscribeMs };
}

/** The full picture for report rows: the summary plus strings, open and click times. */
export function detailEvents(
  model: EventModel,
  sendmailId: string,
  to: string,
  sentAtMs: number,
): EventDetails {
  const summary = summarizeEvents(model, sendmailId);
  // A second stream for details, so adding a detail never changes existing outcomes.
  const random = mulberry32(hash32(`${sendmailId}/details`, model.seed));
  const mx = mxFor(to);
  const epoch = Math.floor((sentAtMs + summary.deliveryMs) / 1000);
  const queueId = `${Math.floor(random() * 1e9).toString(36)}.${randomInt(random, 100, 999)}`;
  const details = [
    `${mx} said 'Sent (OK ${epoch} ${queueId} - gsmtp'`,
    `${mx} said '550 5.1.1 The email account that you tried to reach does not exist. ${queueId} - gsmtp'`,
    `${mx} said '421 4.7.0 Try again later, closing connection.' (gave up after 5 attempts)`,
    `${mx} said '554 5.7.1 Message rejected because it looks like spam (${queueId})'`,
  ][summary.status] as string;
  const openEvents: OpenEvent[] = [];
  let openAt = summary.deliveryMs;
  for (let i = 0; i < summary.opens; i++) {
    openAt += delay(random, model.delays.openMs, model.scale);
    openEvents.push({
      afterMs: openAt,
      ip: randomIp(random),
      userAgent: pick(random, USER_AGENTS),
    });
  }
  const clickEvents: ClickEvent[] = [];
  for (let i = 0; i < summary.clicks; i++) {
    const open = openEvents[Math.min(i, openEvents.length - 1)] as OpenEvent;
    clickEvents.push({
      afterMs: open.afterMs + delay(random, model.delays.clickMs, model.scale),
      ip: open.ip,
      userAgent: open.userAgent,
      url: pick(random, URLS),
    });
  }
  return {
    ...summary,
    details,
    tlsDetails:
      summary.status === DELIVERED ? "TLSv1.3: cipher=TLS_AES_256_GCM_SHA384, bits=256/256" : null,
    openEvents,
    clickEvents,
    unsubscribeIp: randomIp(random),
  };
}
