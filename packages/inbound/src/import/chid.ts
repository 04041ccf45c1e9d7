// The chid tracked header (seed 000 outbound step 6, packages/outbound ids.ts chidOf):
// `<executionId>_<offerId>_<channelId>_<contactId>`. The channel id is 32 lowercase hex
// characters and the contact id may itself contain `_`, so the parse reads the two numbers,
// then exactly 32 characters, then takes everything after the next `_` as the contact.

export interface ParsedChid {
  executionId: number;
  offerId: number;
  channelId: string;
  contactId: string;
}

const CHANNEL_ID_LENGTH = 32;
const MAX_INT4 = 2_147_483_647;

function positiveInt(text: string): number | null {
  if (text.length === 0 || text.length > 10) return null;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return null;
  }
  const value = Number(text);
  return value > 0 && value <= MAX_INT4 ? value : null;
}

function isLowerHex(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102))) return false;
  }
  return true;
}

/** The parts of a chid, or null when it isn't one luxrelay could have written. */
export function parseChid(chid: string): ParsedChid | null {
  const first = chid.indexOf("_");
  if (first < 0) return null;
  const second = chid.indexOf("_", first + 1);
  if (second < 0) return null;
  const channelEnd = second + 1 + CHANNEL_ID_LENGTH;
  if (chid.charCodeAt(channelEnd) !== 95 /* _ */ || chid.length === channelEnd + 1) return null;
  const executionId = positiveInt(chid.slice(0, first));
  const offerId = positiveInt(chid.slice(first + 1, second));
  const channelId = chid.slice(second + 1, channelEnd);
  if (executionId === null || offerId === null || !isLowerHex(channelId)) return null;
  return { executionId, offerId, channelId, contactId: chid.slice(channelEnd + 1) };
}
