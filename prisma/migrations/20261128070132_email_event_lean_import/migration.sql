-- DropForeignKey
ALTER TABLE "email_event" DROP CONSTRAINT "email_event_channel_id_fkey";

-- DropIndex
DROP INDEX "email_event_channel_id_occurred_at_idx";
