-- AlterTable
ALTER TABLE "action" ADD COLUMN     "last_nudged_on" DATE;
