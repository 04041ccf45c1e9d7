-- DropIndex
DROP INDEX "email_event_execution_id_type_idx";

-- CreateIndex
CREATE INDEX "email_event_execution_id_type_occurred_at_idx" ON "email_event"("execution_id", "type", "occurred_at");
