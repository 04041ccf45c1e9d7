// The identifiers seed 000 puts on the wire. Kept in one file: inbound sync parses them back.

/** chid header (seed 000 outbound step 6): `<executionId>_<offerId>_<channelId>_<contactId>`. */
export function chidOf(
  executionId: number,
  offerId: number,
  channelId: string,
  contactId: string,
): string {
  return `${executionId}_${offerId}_${channelId}_${contactId}`;
}

/** Tracking id (seed 000 outbound step 7): `<executionId>_<offerId>_<channelId>`. */
export function trackingIdOf(executionId: number, offerId: number, channelId: string): string {
  return `${executionId}_${offerId}_${channelId}`;
}

/**
 * Template title (seed 000 outbound step 3, RPI's naming, which runs the ids together:
 * `LR_[QL]<offerId><executionId><3 chars of channel><3 chars of client>`). Run together, offer
 * 1 + execution 23 and offer 12 + execution 3 would share `LR_123...`, so the ids are kept
 * apart by `_`: `LR_<offer>_<execution>_<ch><cl>`, realtime `LR_QL<offer>_<ch><cl>`.
 */
export function templateTitleOf(options: {
  realtime: boolean;
  offerId: number;
  executionId: number | null;
  channelId: string;
  clientId: string;
}): string {
  const { realtime, offerId, executionId, channelId, clientId } = options;
  const ids = executionId === null ? `${offerId}` : `${offerId}_${executionId}`;
  return `LR_${realtime ? "QL" : ""}${ids}_${channelId.slice(0, 3)}${clientId.slice(0, 3)}`;
}
