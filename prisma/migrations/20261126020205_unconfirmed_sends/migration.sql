-- AlterTable
ALTER TABLE "agenda_run" ADD COLUMN     "unconfirmed_since" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "outbox_message" ADD COLUMN     "unconfirmed_since" TIMESTAMPTZ(3);
