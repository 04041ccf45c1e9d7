// Channel adapters: what is specific to a kind of channel, used by both pipelines
// (docs/architecture.md "Channel adapters"). The package's only public door.
export {
  CHANNEL_TYPES,
  type ChannelAdapter,
  type ConnectivityResult,
  type SecretColumn,
  type TChannelType,
} from "./adapter.ts";
export {
  type ChannelCredentials,
  createLuxSciAdapter,
  type LuxSciAdapter,
  type LuxSciAdapterOptions,
} from "./luxsci/adapter.ts";
export {
  type DownloadedFile,
  downloadReportFile,
  hostKeyFingerprint,
  probeSftp,
  SFTP_TIMEOUT_MS,
  SftpError,
  SftpFileMissingError,
  SftpHostKeyError,
  type SftpLocation,
} from "./sftp.ts";
export { type SftpTestDeps, type SftpTestResult, testChannelSftp } from "./sftp-test.ts";
