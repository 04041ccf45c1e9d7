-- DropForeignKey
ALTER TABLE "recipient" DROP CONSTRAINT "recipient_batch_id_fkey";

-- DropIndex
DROP INDEX "recipient_batch_id_idx";

-- DropIndex
DROP INDEX "recipient_sendmail_id_idx";

-- DropIndex
DROP INDEX "recipient_chid_key";

-- AlterTable
ALTER TABLE "recipient" DROP COLUMN "batch_id",
ADD COLUMN     "batch_seq" INTEGER NOT NULL;

-- CreateIndex
CREATE INDEX "recipient_execution_id_batch_seq_idx" ON "recipient"("execution_id", "batch_seq");
