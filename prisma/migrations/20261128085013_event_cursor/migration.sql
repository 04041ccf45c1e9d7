-- CreateTable
CREATE TABLE "event_cursor" (
    "channel_id" VARCHAR(32) NOT NULL,
    "applied_id" BIGINT NOT NULL DEFAULT 0,
    "published_id" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_cursor_pkey" PRIMARY KEY ("channel_id")
);

-- AddForeignKey
ALTER TABLE "event_cursor" ADD CONSTRAINT "event_cursor_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Events stored before this table existed were applied and published by their import itself.
INSERT INTO "event_cursor" ("channel_id", "applied_id", "published_id")
SELECT e."channel_id", max(e."id"), max(e."id")
FROM "email_event" e JOIN "channel" c ON c."id" = e."channel_id"
GROUP BY e."channel_id";
