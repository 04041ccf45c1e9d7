-- DropIndex
DROP INDEX "email_event_sendmail_id_type_occurred_at_key";

-- AlterTable
ALTER TABLE "email_event" ADD COLUMN     "fingerprint" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "ordinal" INTEGER NOT NULL DEFAULT 0;

-- Backfill (hand-written): the fingerprint of the opens and clicks stored before it existed,
-- computed exactly as the import computes it (packages/inbound src/import/stage.ts
-- fingerprintSql), so that a re-read of them finds them stored. Each was the only one of its
-- (sendmail id, type, time), hence ordinal 0.
UPDATE "email_event"
   SET "fingerprint" = hashtextextended(coalesce("ip", '') || chr(31) || coalesce("user_agent", '') || chr(31) || coalesce("url", ''), 0)
 WHERE "type" IN ('opened', 'clicked');

-- AlterTable
ALTER TABLE "sync_watermark" ADD COLUMN     "rescanned_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "export_job" ADD COLUMN     "luxsci_requested_at" TIMESTAMPTZ(3),
ADD COLUMN     "remote_delete_error" TEXT,
ADD COLUMN     "rescan" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE UNIQUE INDEX "email_event_sendmail_id_type_occurred_at_fingerprint_ordina_key" ON "email_event"("sendmail_id", "type", "occurred_at", "fingerprint", "ordinal");
