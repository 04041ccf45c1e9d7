-- DropForeignKey
ALTER TABLE "suppression" DROP CONSTRAINT "suppression_channel_id_fkey";

-- DropForeignKey
ALTER TABLE "contact_engagement" DROP CONSTRAINT "contact_engagement_channel_id_fkey";

-- What the two foreign keys' ON DELETE did, once per statement instead of once per row
-- checked at insert: deleting channels deletes their engagement rows and keeps their
-- suppressions with no channel.
CREATE FUNCTION "channel_delete_inbound_rows"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "contact_engagement" e USING deleted_channels d WHERE e."channel_id" = d."id";
  UPDATE "suppression" s SET "channel_id" = NULL
    FROM deleted_channels d WHERE s."channel_id" = d."id";
  RETURN NULL;
END;
$$;

CREATE TRIGGER "channel_delete_inbound_rows"
AFTER DELETE ON "channel"
REFERENCING OLD TABLE AS deleted_channels
FOR EACH STATEMENT EXECUTE FUNCTION "channel_delete_inbound_rows"();
