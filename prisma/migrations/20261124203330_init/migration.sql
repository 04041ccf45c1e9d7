-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "sync_mode" AS ENUM ('api', 'export');

-- CreateEnum
CREATE TYPE "content_format" AS ENUM ('both', 'html', 'text');

-- CreateEnum
CREATE TYPE "execution_kind" AS ENUM ('batch', 'realtime');

-- CreateEnum
CREATE TYPE "execution_status" AS ENUM ('scheduled', 'planning', 'sending', 'paused', 'completed', 'partially_failed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "batch_state" AS ENUM ('pending', 'sending', 'sent', 'failed');

-- CreateEnum
CREATE TYPE "recipient_state" AS ENUM ('pending', 'sent', 'failed', 'suppressed');

-- CreateEnum
CREATE TYPE "template_state" AS ENUM ('active', 'deleted');

-- CreateEnum
CREATE TYPE "event_type" AS ENUM ('sent', 'delivered', 'failed', 'hard_fail', 'spam', 'opened', 'clicked', 'complaint', 'unsubscribed');

-- CreateEnum
CREATE TYPE "offer_history_state" AS ENUM ('sent', 'delivered', 'opened', 'clicked', 'failed', 'hard_fail', 'spam', 'complaint', 'unsubscribed');

-- CreateEnum
CREATE TYPE "suppression_source" AS ENUM ('luxsci_list', 'hard_fail', 'failed', 'spam', 'complaint', 'unsubscribe', 'manual');

-- CreateEnum
CREATE TYPE "report_type" AS ENUM ('sent', 'delivery', 'opens', 'clicks', 'fbl');

-- CreateEnum
CREATE TYPE "export_job_state" AS ENUM ('requested', 'waiting_slot', 'running', 'complete', 'downloaded', 'imported', 'failed');

-- CreateEnum
CREATE TYPE "log_level" AS ENUM ('info', 'warn', 'error');

-- CreateTable
CREATE TABLE "channel" (
    "id" VARCHAR(32) NOT NULL DEFAULT replace((gen_random_uuid())::text, '-'::text, ''::text),
    "name" TEXT NOT NULL,
    "api_url" TEXT NOT NULL DEFAULT 'https://rest.luxsci.com/perl/api/v2',
    "luxsci_user" TEXT NOT NULL,
    "luxsci_token" TEXT NOT NULL,
    "luxsci_secret_enc" TEXT NOT NULL,
    "luxsci_password_enc" TEXT,
    "from_address" TEXT NOT NULL,
    "from_name" VARCHAR(100),
    "reply_address" TEXT,
    "bcc" TEXT,
    "custom_headers" JSONB NOT NULL DEFAULT '[]',
    "secure" BOOLEAN NOT NULL DEFAULT false,
    "auto_suppress" BOOLEAN NOT NULL DEFAULT true,
    "batch_size" INTEGER NOT NULL DEFAULT 1000,
    "api_retries" INTEGER NOT NULL DEFAULT 10,
    "rate_limit_per_minute" INTEGER,
    "sync_mode" "sync_mode" NOT NULL DEFAULT 'api',
    "sync_interval_seconds" INTEGER NOT NULL DEFAULT 300,
    "sync_enabled" BOOLEAN NOT NULL DEFAULT true,
    "async_report_retries" INTEGER NOT NULL DEFAULT 10,
    "sftp_host" TEXT,
    "sftp_port" INTEGER NOT NULL DEFAULT 22,
    "sftp_user" TEXT,
    "sftp_password_enc" TEXT,
    "sftp_directory" TEXT,
    "template_retention_days" INTEGER NOT NULL DEFAULT 30,
    "event_timezone_override" BOOLEAN NOT NULL DEFAULT false,
    "client_id" TEXT NOT NULL DEFAULT 'lux',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "channel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "offer" (
    "id" SERIAL NOT NULL,
    "campaign_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "variant_attribute" TEXT,
    "variant_rule" JSONB,
    "seeds" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "offer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "content_variant" (
    "id" SERIAL NOT NULL,
    "offer_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "subject" VARCHAR(1000) NOT NULL,
    "html" TEXT,
    "text" TEXT,
    "format" "content_format" NOT NULL DEFAULT 'both',
    "position" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "content_variant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "execution" (
    "id" SERIAL NOT NULL,
    "offer_id" INTEGER NOT NULL,
    "channel_id" VARCHAR(32) NOT NULL,
    "kind" "execution_kind" NOT NULL DEFAULT 'batch',
    "status" "execution_status" NOT NULL DEFAULT 'scheduled',
    "audience" JSONB NOT NULL,
    "send_at" TIMESTAMPTZ(3),
    "recipients_total" INTEGER NOT NULL DEFAULT 0,
    "recipients_invalid" INTEGER NOT NULL DEFAULT 0,
    "recipients_duplicate" INTEGER NOT NULL DEFAULT 0,
    "recipients_suppressed" INTEGER NOT NULL DEFAULT 0,
    "seeds_sent" INTEGER NOT NULL DEFAULT 0,
    "batches_total" INTEGER NOT NULL DEFAULT 0,
    "batches_sent" INTEGER NOT NULL DEFAULT 0,
    "batches_failed" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "execution_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "batch" (
    "id" SERIAL NOT NULL,
    "execution_id" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "variant_id" INTEGER,
    "content_hash" CHAR(64) NOT NULL,
    "template_id" INTEGER,
    "state" "batch_state" NOT NULL DEFAULT 'pending',
    "recipient_count" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "sending_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "batch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recipient" (
    "id" BIGSERIAL NOT NULL,
    "execution_id" INTEGER NOT NULL,
    "contact_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "batch_id" INTEGER,
    "slot_data" JSONB,
    "chid" TEXT NOT NULL,
    "sendmail_id" TEXT,
    "state" "recipient_state" NOT NULL DEFAULT 'pending',
    "is_seed" BOOLEAN NOT NULL DEFAULT false,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "recipient_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "luxsci_template" (
    "id" SERIAL NOT NULL,
    "channel_id" VARCHAR(32) NOT NULL,
    "offer_id" INTEGER NOT NULL,
    "execution_id" INTEGER,
    "variant_id" INTEGER,
    "title" TEXT NOT NULL,
    "content_hash" CHAR(64) NOT NULL,
    "luxsci_template_id" TEXT,
    "realtime" BOOLEAN NOT NULL DEFAULT false,
    "state" "template_state" NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "luxsci_template_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracking" (
    "tracking_id" TEXT NOT NULL,
    "execution_id" INTEGER NOT NULL,
    "offer_id" INTEGER NOT NULL,
    "channel_id" VARCHAR(32) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tracking_pkey" PRIMARY KEY ("tracking_id")
);

-- CreateTable
CREATE TABLE "email_event" (
    "id" BIGSERIAL NOT NULL,
    "channel_id" VARCHAR(32) NOT NULL,
    "execution_id" INTEGER,
    "contact_id" TEXT,
    "sendmail_id" TEXT NOT NULL,
    "type" "event_type" NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "email" TEXT,
    "chid" TEXT,
    "status" TEXT,
    "details" TEXT,
    "url" TEXT,
    "ip" TEXT,
    "user_agent" TEXT,
    "imported_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "email_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "offer_history" (
    "id" BIGSERIAL NOT NULL,
    "execution_id" INTEGER NOT NULL,
    "offer_id" INTEGER NOT NULL,
    "channel_id" VARCHAR(32) NOT NULL,
    "contact_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "state" "offer_history_state" NOT NULL,
    "sent_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "opened_at" TIMESTAMPTZ(3),
    "clicked_at" TIMESTAMPTZ(3),
    "failed_at" TIMESTAMPTZ(3),
    "opens" INTEGER NOT NULL DEFAULT 0,
    "clicks" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "offer_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "suppression" (
    "id" BIGSERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "source" "suppression_source" NOT NULL,
    "reason" TEXT,
    "channel_id" VARCHAR(32),
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "suppression_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_watermark" (
    "channel_id" VARCHAR(32) NOT NULL,
    "report_type" "report_type" NOT NULL,
    "after_date" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sync_watermark_pkey" PRIMARY KEY ("channel_id","report_type")
);

-- CreateTable
CREATE TABLE "export_job" (
    "id" SERIAL NOT NULL,
    "channel_id" VARCHAR(32) NOT NULL,
    "report_type" "report_type" NOT NULL,
    "after_date" TIMESTAMPTZ(3) NOT NULL,
    "before_date" TIMESTAMPTZ(3),
    "state" "export_job_state" NOT NULL DEFAULT 'requested',
    "luxsci_job_id" TEXT,
    "filename" TEXT,
    "slot_attempts" INTEGER NOT NULL DEFAULT 0,
    "expected_rows" INTEGER,
    "completed_rows" INTEGER,
    "imported_rows" INTEGER,
    "rejected_rows" INTEGER,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "export_job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "interaction_log" (
    "id" BIGSERIAL NOT NULL,
    "execution_id" INTEGER,
    "offer_id" INTEGER,
    "channel_id" VARCHAR(32),
    "level" "log_level" NOT NULL DEFAULT 'info',
    "message" TEXT NOT NULL,
    "data" JSONB,
    "hour" TIMESTAMPTZ(0),
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "interaction_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "channel_name_key" ON "channel"("name");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_name_key" ON "campaign"("name");

-- CreateIndex
CREATE UNIQUE INDEX "offer_campaign_id_name_key" ON "offer"("campaign_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "content_variant_offer_id_key_key" ON "content_variant"("offer_id", "key");

-- CreateIndex
CREATE INDEX "execution_status_send_at_idx" ON "execution"("status", "send_at");

-- CreateIndex
CREATE INDEX "execution_channel_id_created_at_idx" ON "execution"("channel_id", "created_at");

-- CreateIndex
CREATE INDEX "batch_execution_id_state_idx" ON "batch"("execution_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "batch_execution_id_seq_key" ON "batch"("execution_id", "seq");

-- CreateIndex
CREATE INDEX "recipient_batch_id_idx" ON "recipient"("batch_id");

-- CreateIndex
CREATE INDEX "recipient_sendmail_id_idx" ON "recipient"("sendmail_id");

-- CreateIndex
CREATE UNIQUE INDEX "recipient_execution_id_contact_id_key" ON "recipient"("execution_id", "contact_id");

-- CreateIndex
CREATE UNIQUE INDEX "recipient_chid_key" ON "recipient"("chid");

-- CreateIndex
CREATE INDEX "luxsci_template_realtime_state_created_at_idx" ON "luxsci_template"("realtime", "state", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "luxsci_template_channel_id_title_content_hash_key" ON "luxsci_template"("channel_id", "title", "content_hash");

-- CreateIndex
CREATE UNIQUE INDEX "tracking_execution_id_key" ON "tracking"("execution_id");

-- CreateIndex
CREATE INDEX "tracking_channel_id_idx" ON "tracking"("channel_id");

-- CreateIndex
CREATE INDEX "email_event_execution_id_type_idx" ON "email_event"("execution_id", "type");

-- CreateIndex
CREATE INDEX "email_event_channel_id_occurred_at_idx" ON "email_event"("channel_id", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "email_event_sendmail_id_type_occurred_at_key" ON "email_event"("sendmail_id", "type", "occurred_at");

-- CreateIndex
CREATE INDEX "offer_history_offer_id_state_idx" ON "offer_history"("offer_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "offer_history_execution_id_contact_id_key" ON "offer_history"("execution_id", "contact_id");

-- CreateIndex
CREATE UNIQUE INDEX "suppression_email_source_key" ON "suppression"("email", "source");

-- CreateIndex
CREATE INDEX "export_job_channel_id_state_idx" ON "export_job"("channel_id", "state");

-- CreateIndex
CREATE UNIQUE INDEX "export_job_channel_id_luxsci_job_id_key" ON "export_job"("channel_id", "luxsci_job_id");

-- CreateIndex
CREATE INDEX "interaction_log_execution_id_at_idx" ON "interaction_log"("execution_id", "at");

-- CreateIndex
CREATE UNIQUE INDEX "interaction_log_offer_id_hour_key" ON "interaction_log"("offer_id", "hour");

-- AddForeignKey
ALTER TABLE "offer" ADD CONSTRAINT "offer_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "content_variant" ADD CONSTRAINT "content_variant_offer_id_fkey" FOREIGN KEY ("offer_id") REFERENCES "offer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "execution" ADD CONSTRAINT "execution_offer_id_fkey" FOREIGN KEY ("offer_id") REFERENCES "offer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "execution" ADD CONSTRAINT "execution_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channel"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batch" ADD CONSTRAINT "batch_execution_id_fkey" FOREIGN KEY ("execution_id") REFERENCES "execution"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batch" ADD CONSTRAINT "batch_variant_id_fkey" FOREIGN KEY ("variant_id") REFERENCES "content_variant"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batch" ADD CONSTRAINT "batch_template_id_fkey" FOREIGN KEY ("template_id") REFERENCES "luxsci_template"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipient" ADD CONSTRAINT "recipient_execution_id_fkey" FOREIGN KEY ("execution_id") REFERENCES "execution"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipient" ADD CONSTRAINT "recipient_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "luxsci_template" ADD CONSTRAINT "luxsci_template_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channel"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "luxsci_template" ADD CONSTRAINT "luxsci_template_offer_id_fkey" FOREIGN KEY ("offer_id") REFERENCES "offer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "luxsci_template" ADD CONSTRAINT "luxsci_template_execution_id_fkey" FOREIGN KEY ("execution_id") REFERENCES "execution"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "luxsci_template" ADD CONSTRAINT "luxsci_template_variant_id_fkey" FOREIGN KEY ("variant_id") REFERENCES "content_variant"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking" ADD CONSTRAINT "tracking_execution_id_fkey" FOREIGN KEY ("execution_id") REFERENCES "execution"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking" ADD CONSTRAINT "tracking_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channel"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "email_event" ADD CONSTRAINT "email_event_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channel"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "suppression" ADD CONSTRAINT "suppression_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channel"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sync_watermark" ADD CONSTRAINT "sync_watermark_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "export_job" ADD CONSTRAINT "export_job_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "interaction_log" ADD CONSTRAINT "interaction_log_execution_id_fkey" FOREIGN KEY ("execution_id") REFERENCES "execution"("id") ON DELETE CASCADE ON UPDATE CASCADE;
