-- AlterTable
ALTER TABLE "agenda_run" ADD COLUMN     "parts_posted" INTEGER NOT NULL DEFAULT 0;
