-- AlterTable
ALTER TABLE "execution" ADD COLUMN     "round" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "batch" ADD COLUMN     "settle_after" TIMESTAMPTZ(3),
ADD COLUMN     "unsettled_since" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "recipient" ADD COLUMN     "settle_after" TIMESTAMPTZ(3),
ADD COLUMN     "unsettled_since" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "execution_content" (
    "execution_id" INTEGER NOT NULL,
    "variant_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "subject" VARCHAR(1000) NOT NULL,
    "html" TEXT,
    "text" TEXT,
    "position" INTEGER NOT NULL,
    "content_hash" CHAR(64) NOT NULL,

    CONSTRAINT "execution_content_pkey" PRIMARY KEY ("execution_id","variant_id")
);

-- AddForeignKey
ALTER TABLE "execution_content" ADD CONSTRAINT "execution_content_execution_id_fkey" FOREIGN KEY ("execution_id") REFERENCES "execution"("id") ON DELETE CASCADE ON UPDATE CASCADE;
