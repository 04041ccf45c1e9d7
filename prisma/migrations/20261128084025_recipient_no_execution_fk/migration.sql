-- DropForeignKey
ALTER TABLE "recipient" DROP CONSTRAINT "recipient_execution_id_fkey";

-- What the foreign key's ON DELETE CASCADE did, once per statement instead of once per row
-- checked at insert: deleting executions deletes their recipients.
CREATE FUNCTION "recipient_delete_with_execution"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "recipient" r USING deleted_executions d WHERE r."execution_id" = d."id";
  RETURN NULL;
END;
$$;

CREATE TRIGGER "execution_delete_recipients"
AFTER DELETE ON "execution"
REFERENCING OLD TABLE AS deleted_executions
FOR EACH STATEMENT EXECUTE FUNCTION "recipient_delete_with_execution"();
