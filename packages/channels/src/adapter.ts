// A channel adapter: what one kind of channel (LuxSci today) can do, behind one interface that
// both pipelines use, so that neither imports the other (docs/architecture.md "Channel
// adapters") and a new channel type is a new adapter plus its simulator.
//
// The interface as it stands: the parts both pipelines already go through (clients built from
// a channel's stored, encrypted credentials; the connectivity test; what the channel's limits
// and guarantees are). Sending a batch, settling an unknown outcome and reading events still
// call LuxSci's client directly in packages/outbound and packages/inbound; they move behind
// the adapter with the second channel type.

/** The channel types luxrelay speaks. */
export const CHANNEL_TYPES = ["luxsci"] as const;
export type TChannelType = (typeof CHANNEL_TYPES)[number];

/** What a connectivity test found: the account it reached, or why it could not. */
export type ConnectivityResult =
  | { ok: true; ms: number; account: number | string | null; uid: string | number | null }
  | { ok: false; ms: number; error: string };

/** The columns of a channel row that hold ciphertext (packages/db secrets.ts binds each to it). */
export type SecretColumn = "luxsciSecretEnc" | "luxsciPasswordEnc" | "sftpPasswordEnc";

export interface ChannelAdapter<TChannel, TClient> {
  readonly type: TChannelType;
  /** Recipients one send call may carry. */
  readonly maxBatchSize: number;
  /**
   * How a send whose outcome is unknown (a timeout, a cut connection, a 5xx after the request
   * left) is settled: `sent-report`, the channel reports what it accepted, so the recipients
   * it lacks are sent again once its report lag has passed (docs/reliability.md).
   */
  readonly unknownOutcome: "sent-report";
  /** Where the channel's delivery events come from. */
  readonly eventSources: readonly ("api" | "export")[];
  /** The channel row's encrypted columns this adapter reads. */
  readonly secretColumns: readonly SecretColumn[];
  /** A client for the channel, cached per channel and its last change. */
  client(channel: TChannel, use?: { forSend?: boolean }): TClient;
  /** Logs in and reads the account: the seed's connectivity test. */
  testConnectivity(channel: TChannel): Promise<ConnectivityResult>;
  /** Closes every client (keep-alive pools). */
  close(): Promise<void>;
}
